package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// What the conversation workspace needs besides the timeline itself: the people and places the
// timeline names, the people a comment may mention, and whether a reply can be sent at all.

// TimelinePeople is who and what a conversation's timeline names, each read once for the
// whole timeline.
type TimelinePeople struct {
	Users   map[int64]*store.User
	Teams   map[int64]*store.Team
	Inboxes map[int64]string // names
	// Contact is the conversation's contact; nil when it has none.
	Contact *store.Contact
}

// EventData is every field a timeline event's data may carry, as this package and routing's
// explanation (ROUTE-6) write it; each event type uses some of them.
type EventData struct {
	Reason             string   `json:"reason"`
	Direction          string   `json:"direction"`
	AssigneeID         int64    `json:"assignee_id"`
	PreviousAssigneeID int64    `json:"previous_assignee_id"`
	TeamID             int64    `json:"team_id"`
	PreviousTeamID     int64    `json:"previous_team_id"`
	FromInboxID        int64    `json:"from_inbox_id"`
	ToInboxID          int64    `json:"to_inbox_id"`
	Priority           string   `json:"priority"`
	PreviousPriority   string   `json:"previous_priority"`
	Added              []string `json:"added"`
	Removed            []string `json:"removed"`
	SnoozedUntil       string   `json:"snoozed_until"`
	// Rule is the Filtered view's rule that filed an automated mail (EMAIL-8): auto_reply,
	// bounce, bulk or role_sender.
	Rule string `json:"rule"`
	// Routing's explanation.
	Strategy string  `json:"strategy"`
	Fallback bool    `json:"fallback"`
	Eligible []int64 `json:"eligible"`
	Skipped  []struct {
		UserID int64  `json:"user_id"`
		Reason string `json:"reason"`
	} `json:"skipped"`
}

// TimelinePeople reads the users, teams, inboxes and contact that the conversation's timeline
// items name: authors, actors, assignees, those routing skipped, mentioned users and teams.
func (s *Service) TimelinePeople(ctx context.Context, actor *store.User, conversationID int64, items []TimelineItem) (*TimelinePeople, error) {
	conv, err := s.visibleConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	var users, teams, inboxes []int64
	for _, it := range items {
		switch {
		case it.Message != nil:
			if it.Message.AuthorID != nil {
				users = append(users, *it.Message.AuthorID)
			}
		case it.Comment != nil:
			users = append(users, it.Comment.AuthorID)
			var m mentions
			if json.Unmarshal(it.Comment.Mentions, &m) == nil {
				users = append(users, m.UserIDs...)
				teams = append(teams, m.TeamIDs...)
			}
		case it.Event != nil:
			if it.Event.ActorID != nil {
				users = append(users, *it.Event.ActorID)
			}
			var r EventData
			if json.Unmarshal(it.Event.Data, &r) != nil {
				continue
			}
			users = append(users, r.AssigneeID, r.PreviousAssigneeID)
			for _, sk := range r.Skipped {
				users = append(users, sk.UserID)
			}
			teams = append(teams, r.TeamID, r.PreviousTeamID)
			inboxes = append(inboxes, r.FromInboxID, r.ToInboxID)
		}
	}
	p := &TimelinePeople{Users: map[int64]*store.User{}, Teams: map[int64]*store.Team{}, Inboxes: map[int64]string{}}
	if len(users) > 0 {
		if p.Users, err = s.Store.UsersByIDs(ctx, users); err != nil {
			return nil, err
		}
	}
	if len(teams) > 0 {
		if p.Teams, err = s.Store.TeamsByIDs(ctx, teams); err != nil {
			return nil, err
		}
	}
	if len(inboxes) > 0 {
		if p.Inboxes, err = s.Store.InboxNames(ctx, inboxes); err != nil {
			return nil, err
		}
	}
	if conv.ContactID != nil {
		c, err := s.Store.Contact(ctx, *conv.ContactID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		p.Contact = c
	}
	return p, nil
}

// MentionCandidates lists whom a comment on the conversation may usefully mention: active users
// who can open it, and teams, whose name (or the user's email) contains query. At most limit
// of each (0 means 8).
func (s *Service) MentionCandidates(ctx context.Context, actor *store.User, conversationID int64, query string, limit int) ([]*store.User, []*store.Team, error) {
	conv, err := s.visibleConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, nil, err
	}
	if limit <= 0 {
		limit = 8
	}
	query = strings.TrimSpace(strings.TrimPrefix(query, "@"))
	users, err := s.Store.MentionableUsers(ctx, conv.InboxID, query, limit)
	if err != nil {
		return nil, nil, err
	}
	teams, err := s.Store.TeamsNamed(ctx, query, limit)
	if err != nil {
		return nil, nil, err
	}
	return users, teams, nil
}

// ReplyProblem returns why the actor cannot reply on the conversation now (a problem error:
// no channel, a channel that cannot send, a channel that refuses outgoing messages), or nil
// when a reply can be sent. The composer uses it to disable Reply up front; Reply itself
// checks the same again.
func (s *Service) ReplyProblem(ctx context.Context, actor *store.User, conversationID int64) error {
	conv, err := s.visibleConversation(ctx, actor, conversationID)
	if err != nil {
		return err
	}
	ch, sender, err := s.replyChannel(ctx, conv)
	if err != nil {
		return err
	}
	rc, ok := sender.(channel.ReplyChecker)
	if !ok {
		return nil
	}
	// An empty message asks only whether the channel takes replies at all.
	probe := &store.Message{ConversationID: conv.ID, ChannelID: &ch.ID, Direction: "outbound",
		Attachments: json.RawMessage("[]"), Status: "queued"}
	if err := rc.CheckReply(ctx, ch, &channel.Outbound{Message: probe, Conversation: conv, Channel: ch, Author: actor}); err != nil {
		if _, ok := problem.As(err); ok {
			return err
		}
		return problem.Conflictf("channel_cannot_send", "%v", err)
	}
	return nil
}
