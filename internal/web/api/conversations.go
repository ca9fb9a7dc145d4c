package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/view"
)

// conversationRoutes are the conversation endpoints: list and search, read, change, timeline,
// reply, comment, mark read. Access to a conversation follows its inbox; the domain answers
// 404 for conversations of inboxes the caller cannot see.
func conversationRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/conversations", Access: Signed, Handle: listConversations},
		{Method: "GET", Pattern: "/api/v1/conversations/{id}", Access: Signed, Scope: ScopeConversation, Handle: getConversation},
		{Method: "PATCH", Pattern: "/api/v1/conversations/{id}", Access: Signed, Scope: ScopeConversation, Handle: patchConversation},
		{Method: "GET", Pattern: "/api/v1/conversations/{id}/timeline", Access: Signed, Scope: ScopeConversation, Handle: conversationTimeline},
		{Method: "POST", Pattern: "/api/v1/conversations/{id}/messages", Access: Signed, Scope: ScopeConversation, Handle: replyToConversation},
		{Method: "POST", Pattern: "/api/v1/conversations/{id}/comments", Access: Signed, Scope: ScopeConversation, Handle: commentOnConversation},
		{Method: "POST", Pattern: "/api/v1/conversations/{id}/read", Access: Signed, Scope: ScopeConversation, Handle: markConversationRead},
	}
}

// The conversation, message and comment views are shared with the realtime event log
// (internal/view), so an event carries exactly what these endpoints answer.
type (
	conversationJSON = view.Conversation
	messageJSON      = view.Message
	commentJSON      = view.Comment
)

func toConversationJSON(c *store.Conversation) conversationJSON { return view.NewConversation(c) }

// rawJSONOr keeps a stored JSON column renderable even if it is empty.
func rawJSONOr(raw json.RawMessage, def string) json.RawMessage { return view.RawOr(raw, def) }

func toMessageJSON(m *store.Message) messageJSON { return view.NewMessage(m) }

func toCommentJSON(c *store.Comment) commentJSON { return view.NewComment(c) }

type eventJSON struct {
	ID             int64           `json:"id"`
	ConversationID int64           `json:"conversation_id"`
	Type           string          `json:"type"`
	ActorID        *int64          `json:"actor_id"`
	Data           json.RawMessage `json:"data"`
	CreatedAt      string          `json:"created_at"`
}

type timelineItemJSON struct {
	Kind      string       `json:"kind"`
	CreatedAt string       `json:"created_at"`
	Message   *messageJSON `json:"message,omitempty"`
	Comment   *commentJSON `json:"comment,omitempty"`
	Event     *eventJSON   `json:"event,omitempty"`
}

func listConversations(s *Server, w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f inbox.Filter
	var err error
	for name, dst := range map[string]**int64{
		"inbox_id": &f.InboxID, "team_id": &f.TeamID, "channel_id": &f.ChannelID, "contact_id": &f.ContactID,
	} {
		if *dst, err = queryPositiveID(r, name); err != nil {
			return err
		}
	}
	f.Status, f.AssigneeID, f.Tag, f.Priority = q.Get("status"), q.Get("assignee_id"), q.Get("tag"), q.Get("priority")
	f.Q, f.Sort = q.Get("q"), q.Get("sort")
	if f.Spam, err = queryFlag(r, "spam"); err != nil {
		return err
	}
	if f.Filtered, err = queryFlag(r, "filtered"); err != nil {
		return err
	}
	if f.Trashed, err = queryFlag(r, "trashed"); err != nil {
		return err
	}
	if f.Limit, err = limit(r); err != nil {
		return err
	}
	if f.Cursor, err = decodeCursor(r); err != nil {
		return err
	}
	list, next, err := s.Inbox.Conversations(r.Context(), caller(r), f)
	if err != nil {
		return err
	}
	out := make([]conversationJSON, len(list))
	for i := range list {
		out[i] = toConversationJSON(&list[i])
	}
	writeJSON(w, http.StatusOK, newList(out, encodeCursor(next)))
	return nil
}

// queryID reads an optional positive id from the query string.
func queryPositiveID(r *http.Request, name string) (*int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, problem.Field("invalid_"+name, name, "must be a positive whole number")
	}
	return &id, nil
}

// queryBool reads an optional true/false from the query string.
func queryFlag(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, problem.Field("invalid_"+name, name, "must be true or false")
}

func getConversation(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.Inbox.Conversation(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConversationJSON(c))
	return nil
}

// conversationPatchBody is the PATCH body. Fields are raw so that an absent field (no change)
// and null (clear it) differ.
type conversationPatchBody struct {
	Status       json.RawMessage `json:"status"`
	AssigneeID   json.RawMessage `json:"assignee_id"`
	TeamID       json.RawMessage `json:"team_id"`
	Priority     json.RawMessage `json:"priority"`
	Tags         json.RawMessage `json:"tags"`
	SnoozedUntil json.RawMessage `json:"snoozed_until"`
	InboxID      json.RawMessage `json:"inbox_id"`
	Spam         json.RawMessage `json:"spam"`
	Filtered     json.RawMessage `json:"filtered"`
	Trashed      json.RawMessage `json:"trashed"`
}

func rawIsNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// rawField decodes one present, non-null field into dst, naming the field when it has the wrong type.
func decodeRawField(raw json.RawMessage, name, want string, dst any) error {
	if rawIsNull(raw) {
		return problem.Field("invalid_"+name, name, "must be "+want+", not null")
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return problem.Field("invalid_"+name, name, "must be "+want)
	}
	return nil
}

// patch turns the body into a domain patch, checking each field's type; the domain checks values.
func (b *conversationPatchBody) patch() (inbox.Patch, error) {
	var p inbox.Patch
	if b.Status != nil {
		p.Status = new(string)
		if err := decodeRawField(b.Status, "status", "a string", p.Status); err != nil {
			return p, err
		}
	}
	if b.Priority != nil {
		p.Priority = new(string)
		if err := decodeRawField(b.Priority, "priority", "a string", p.Priority); err != nil {
			return p, err
		}
	}
	if b.AssigneeID != nil {
		if rawIsNull(b.AssigneeID) {
			p.Unassign = true
		} else {
			p.AssigneeID = new(int64)
			if err := decodeRawField(b.AssigneeID, "assignee_id", "a user id or null", p.AssigneeID); err != nil {
				return p, err
			}
		}
	}
	if b.TeamID != nil {
		if rawIsNull(b.TeamID) {
			p.ClearTeam = true
		} else {
			p.TeamID = new(int64)
			if err := decodeRawField(b.TeamID, "team_id", "a team id or null", p.TeamID); err != nil {
				return p, err
			}
		}
	}
	if b.Tags != nil {
		tags := []string{}
		if !rawIsNull(b.Tags) {
			if err := decodeRawField(b.Tags, "tags", "an array of strings", &tags); err != nil {
				return p, err
			}
			if tags == nil {
				tags = []string{}
			}
		}
		p.Tags = &tags
	}
	if b.SnoozedUntil != nil {
		if rawIsNull(b.SnoozedUntil) {
			p.Unsnooze = true
		} else {
			var v string
			if err := decodeRawField(b.SnoozedUntil, "snoozed_until", "an RFC 3339 time or null", &v); err != nil {
				return p, err
			}
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return p, problem.Field("invalid_snoozed_until", "snoozed_until", "must be an RFC 3339 time or null")
			}
			ms := t.UnixMilli()
			p.SnoozedUntil = &ms
		}
	}
	if b.InboxID != nil {
		p.InboxID = new(int64)
		if err := decodeRawField(b.InboxID, "inbox_id", "an inbox id", p.InboxID); err != nil {
			return p, err
		}
	}
	if b.Spam != nil {
		p.Spam = new(bool)
		if err := decodeRawField(b.Spam, "spam", "true or false", p.Spam); err != nil {
			return p, err
		}
	}
	if b.Filtered != nil {
		p.Filtered = new(bool)
		if err := decodeRawField(b.Filtered, "filtered", "true or false", p.Filtered); err != nil {
			return p, err
		}
	}
	if b.Trashed != nil {
		p.Trashed = new(bool)
		if err := decodeRawField(b.Trashed, "trashed", "true or false", p.Trashed); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseConversationPatch reads a PATCH body the way the handler does (for the fuzz target).
func parseConversationPatch(body io.Reader) (inbox.Patch, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var b conversationPatchBody
	if err := dec.Decode(&b); err != nil {
		return inbox.Patch{}, jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return inbox.Patch{}, problem.Invalidf("invalid_json", "the body must hold a single JSON value")
	}
	return b.patch()
}

func patchConversation(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var b conversationPatchBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	p, err := b.patch()
	if err != nil {
		return err
	}
	c, err := s.Inbox.Update(r.Context(), caller(r), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConversationJSON(c))
	return nil
}

func conversationTimeline(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	items, err := s.Inbox.Timeline(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	out := make([]timelineItemJSON, len(items))
	for i, it := range items {
		out[i] = timelineItemJSON{Kind: it.Kind, CreatedAt: timeJSON(it.CreatedAt)}
		switch {
		case it.Message != nil:
			m := toMessageJSON(it.Message)
			out[i].Message = &m
		case it.Comment != nil:
			c := toCommentJSON(it.Comment)
			out[i].Comment = &c
		case it.Event != nil:
			e := it.Event
			out[i].Event = &eventJSON{ID: e.ID, ConversationID: e.ConversationID, Type: e.Type, ActorID: e.ActorID,
				Data: rawJSONOr(e.Data, "{}"), CreatedAt: timeJSON(e.CreatedAt)}
		}
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

func replyToConversation(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Text        string          `json:"text"`
		HTML        string          `json:"html"`
		Attachments json.RawMessage `json:"attachments"`
		To          []string        `json:"to"`
		Cc          []string        `json:"cc"`
		Bcc         []string        `json:"bcc"`
		ForwardOf   int64           `json:"forward_of"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	m, err := s.Inbox.Reply(r.Context(), caller(r), id, inbox.ReplyInput{Text: body.Text, HTML: body.HTML,
		Attachments: body.Attachments, To: body.To, Cc: body.Cc, Bcc: body.Bcc, ForwardOf: body.ForwardOf})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toMessageJSON(m))
	return nil
}

func commentOnConversation(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Body           string  `json:"body"`
		MentionUserIDs []int64 `json:"mention_user_ids"`
		MentionTeamIDs []int64 `json:"mention_team_ids"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := s.Inbox.Comment(r.Context(), caller(r), id, inbox.CommentInput{
		Body: body.Body, MentionUserIDs: body.MentionUserIDs, MentionTeamIDs: body.MentionTeamIDs,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toCommentJSON(c))
	return nil
}

func markConversationRead(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Inbox.MarkRead(r.Context(), caller(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
