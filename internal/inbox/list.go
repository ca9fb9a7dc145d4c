package inbox

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// requireActor refuses operations without a signed-in user; every edge passes one.
func requireActor(actor *store.User) error {
	if actor == nil {
		return problem.New(problem.Unauthorized, "unauthorized", "sign in first")
	}
	return nil
}

func conversationNotFound(id int64) error {
	return problem.NotFoundf("conversation_not_found", "no conversation %d", id)
}

// visibleConversation returns the conversation when the actor may see its inbox. Otherwise it
// reports not found, exactly as for an id that does not exist, so ids of other inboxes do not leak.
func (s *Service) visibleConversation(ctx context.Context, actor *store.User, id int64) (*store.Conversation, error) {
	if actor == nil {
		return nil, conversationNotFound(id)
	}
	cache, _ := ctx.Value(readCacheKey{}).(*readCache)
	if c := cache.get(actor.ID, id); c != nil {
		return c, nil
	}
	c, err := s.Store.Conversation(ctx, id, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, conversationNotFound(id)
	} else if err != nil {
		return nil, err
	}
	ok, err := s.Store.CanSeeInbox(ctx, actor, c.InboxID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, conversationNotFound(id)
	}
	cache.put(actor.ID, c)
	return c, nil
}

// WithReadCache returns a context in which the same actor reading the same conversation is
// answered from the first read: one page shows a conversation in several parts (header,
// timeline, contact, composer), each asking the domain on its own. Use it for requests that
// only read; a change made in the same request would not be seen by later reads.
func WithReadCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, readCacheKey{}, &readCache{m: map[[2]int64]*store.Conversation{}})
}

type readCacheKey struct{}

type readCache struct {
	mu sync.Mutex
	m  map[[2]int64]*store.Conversation // (actor, conversation) → the conversation as read
}

// get returns a copy, so a caller changing its conversation cannot change another's.
func (rc *readCache) get(actorID, id int64) *store.Conversation {
	if rc == nil {
		return nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c, ok := rc.m[[2]int64{actorID, id}]
	if !ok {
		return nil
	}
	cp := *c
	cp.Tags = slices.Clone(c.Tags)
	return &cp
}

func (rc *readCache) put(actorID int64, c *store.Conversation) {
	if rc == nil {
		return
	}
	cp := *c
	cp.Tags = slices.Clone(c.Tags)
	rc.mu.Lock()
	rc.m[[2]int64{actorID, c.ID}] = &cp
	rc.mu.Unlock()
}

// Conversation returns one conversation the actor may see, with Unread computed for them.
func (s *Service) Conversation(ctx context.Context, actor *store.User, id int64) (*store.Conversation, error) {
	return s.visibleConversation(ctx, actor, id)
}

// Filter selects conversations for a list. Zero values do not filter.
type Filter struct {
	InboxID *int64
	Status  string // open | closed
	// AssigneeID is "me" (the actor), "none" (unassigned: no assignee and no bot running, the
	// Unassigned view) or a user id.
	AssigneeID string
	TeamID     *int64
	ChannelID  *int64
	ContactID  *int64
	Tag        string
	Priority   string
	// Q searches subjects, message text, comments and the contact's name, emails and phones.
	Q string
	// Spam, Filtered and Trashed list the spam, the filtered conversations (automated mail,
	// EMAIL-8) or the trash; otherwise all three are left out.
	Spam     bool
	Filtered bool
	Trashed  bool
	// BotActive lists only the chat conversations a bot still has (the Bots view).
	BotActive bool
	// Snoozed, when set, lists only the conversations snoozed now (true) or only those that
	// are not (false): the open views hide a snoozed conversation until its time comes.
	Snoozed *bool
	// ActiveFrom and ActiveBefore bound the last activity (unix ms; ActiveBefore exclusive).
	ActiveFrom   *int64
	ActiveBefore *int64
	Sort         string // newest (default) | oldest, by last activity
	Limit        int    // default 50, at most 200
	// Cursor continues a list from the nextCursor of the previous page.
	Cursor string
}

var (
	statuses   = []string{"open", "closed"}
	priorities = []string{"none", "low", "medium", "high", "urgent"}
)

// maxQuery bounds a search query.
const maxQuery = 500

// Conversations lists the conversations the actor may see that match f, by last activity.
// nextCursor is empty on the last page.
func (s *Service) Conversations(ctx context.Context, actor *store.User, f Filter) ([]store.Conversation, string, error) {
	if err := requireActor(actor); err != nil {
		return nil, "", err
	}
	sf := store.ConversationFilter{
		ForUser:     actor.ID,
		VisibleOnly: !actor.IsAdmin(),
		InboxID:     f.InboxID,
		TeamID:      f.TeamID,
		ChannelID:   f.ChannelID,
		ContactID:   f.ContactID,
		Tag:         strings.TrimSpace(f.Tag),
		Spam:        f.Spam,
		Filtered:    f.Filtered,
		BotActive:   f.BotActive,
		Trashed:     f.Trashed,
		Q:           strings.TrimSpace(f.Q),
		Limit:       f.Limit,
		Snoozed:     f.Snoozed,
		SnoozedAt:   store.Now(),
	}
	if f.ActiveFrom != nil && f.ActiveBefore != nil && *f.ActiveBefore <= *f.ActiveFrom {
		return nil, "", problem.Field("invalid_date_range", "active_before", "must be after the start of the range")
	}
	sf.ActiveFrom, sf.ActiveBefore = f.ActiveFrom, f.ActiveBefore
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return nil, "", problem.Field("invalid_status", "status", "must be open or closed")
	}
	sf.Status = f.Status
	if f.Priority != "" && !slices.Contains(priorities, f.Priority) {
		return nil, "", problem.Field("invalid_priority", "priority", "must be one of none, low, medium, high, urgent")
	}
	sf.Priority = f.Priority
	switch f.AssigneeID {
	case "":
	case "me":
		sf.AssigneeID = &actor.ID
	case "none":
		sf.Unassigned = true
	default:
		id, err := strconv.ParseInt(f.AssigneeID, 10, 64)
		if err != nil || id <= 0 {
			return nil, "", problem.Field("invalid_assignee_id", "assignee_id", "must be me, none or a user id")
		}
		sf.AssigneeID = &id
	}
	switch f.Sort {
	case "", "newest":
	case "oldest":
		sf.Oldest = true
	default:
		return nil, "", problem.Field("invalid_sort", "sort", "must be newest or oldest")
	}
	if len(sf.Q) > maxQuery {
		return nil, "", problem.Field("invalid_query", "q", "must be at most "+strconv.Itoa(maxQuery)+" characters")
	}
	if sf.Limit <= 0 {
		sf.Limit = 50
	}
	if sf.Limit > 200 {
		sf.Limit = 200
	}
	if f.Cursor != "" {
		c, err := store.ParseConversationCursor(f.Cursor)
		if err != nil {
			return nil, "", problem.Field("invalid_cursor", "cursor", "is not a cursor this API returned")
		}
		sf.After = &c
	}
	list, next, err := s.Store.Conversations(ctx, sf)
	if err != nil {
		return nil, "", err
	}
	if list == nil {
		list = []store.Conversation{}
	}
	if next == nil {
		return list, "", nil
	}
	return list, next.String(), nil
}

// TimelineItem is one entry of a conversation's timeline: exactly one of Message, Comment and
// Event is set, as Kind says.
type TimelineItem struct {
	Kind      string // message | comment | event
	CreatedAt int64
	Message   *store.Message
	Comment   *store.Comment
	Event     *store.ConversationEvent
}

func (t TimelineItem) id() int64 {
	switch {
	case t.Message != nil:
		return t.Message.ID
	case t.Comment != nil:
		return t.Comment.ID
	case t.Event != nil:
		return t.Event.ID
	}
	return 0
}

// Timeline returns the conversation's messages, comments and events in one stream, ordered by
// time (ties: events, then messages, then comments, each by id).
func (s *Service) Timeline(ctx context.Context, actor *store.User, conversationID int64) ([]TimelineItem, error) {
	if _, err := s.visibleConversation(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	messages, err := s.Store.Messages(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	comments, err := s.Store.Comments(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	events, err := s.Store.ConversationEvents(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	items := make([]TimelineItem, 0, len(messages)+len(comments)+len(events))
	for i := range messages {
		items = append(items, TimelineItem{Kind: "message", CreatedAt: messages[i].CreatedAt, Message: &messages[i]})
	}
	for i := range comments {
		items = append(items, TimelineItem{Kind: "comment", CreatedAt: comments[i].CreatedAt, Comment: &comments[i]})
	}
	for i := range events {
		items = append(items, TimelineItem{Kind: "event", CreatedAt: events[i].CreatedAt, Event: &events[i]})
	}
	// Within one millisecond an event comes first: it is what the message that caused it
	// (a new conversation, a reopen) is the consequence of.
	rank := map[string]int{"event": 0, "message": 1, "comment": 2}
	slices.SortStableFunc(items, func(a, b TimelineItem) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(rank[a.Kind], rank[b.Kind]), cmp.Compare(a.id(), b.id()))
	})
	return items, nil
}

// MarkRead records that the actor has read the conversation.
func (s *Service) MarkRead(ctx context.Context, actor *store.User, conversationID int64) error {
	c, err := s.visibleConversation(ctx, actor, conversationID)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkConversationRead(ctx, conversationID, actor.ID, max(store.Now(), derefOr(c.LastInboundAt, 0))); err != nil {
			return err
		}
		events.ConversationRead(tx, conversationID, c.InboxID, actor.ID)
		return nil
	})
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
