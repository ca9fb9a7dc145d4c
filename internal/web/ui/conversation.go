package ui

import (
	"net/http"
	"strconv"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) conversationRoutes() []route {
	return []route{
		{pattern: "POST /conversations/{id}/reply", handle: s.reply},
		{pattern: "POST /conversations/{id}/comment", handle: s.comment},
	}
}

// conversationPane is the right pane: one conversation with its timeline, its header (see
// conversation_actions.go) and its contact (see contact.go).
type conversationPane struct {
	Conversation *store.Conversation
	Timeline     []inbox.TimelineItem
	Header       *conversationHeader
	Sidebar      *contactSidebar
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFoundf("not_found", "no such page")
	}
	return id, nil
}

func (s *Server) conversationPane(r *http.Request, rawID string) (*conversationPane, error) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil, problem.NotFoundf("conversation_not_found", "no such conversation")
	}
	u := user(r)
	c, err := s.Inbox.Conversation(r.Context(), u, id)
	if err != nil {
		return nil, err
	}
	tl, err := s.Inbox.Timeline(r.Context(), u, id)
	if err != nil {
		return nil, err
	}
	pane := &conversationPane{Conversation: c, Timeline: tl}
	if pane.Header, err = s.conversationHeader(r, c); err != nil {
		return nil, err
	}
	if pane.Sidebar, err = s.contactSidebar(r, c); err != nil {
		return nil, err
	}
	return pane, nil
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Inbox.Reply(r.Context(), user(r), id, inbox.ReplyInput{Text: r.FormValue("text")}); err != nil {
		return err
	}
	redirect(w, r, "/inbox/"+strconv.FormatInt(id, 10)+"?"+listQuery(r).Encode())
	return nil
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Inbox.Comment(r.Context(), user(r), id, inbox.CommentInput{Body: r.FormValue("text")}); err != nil {
		return err
	}
	redirect(w, r, "/inbox/"+strconv.FormatInt(id, 10)+"?"+listQuery(r).Encode())
	return nil
}
