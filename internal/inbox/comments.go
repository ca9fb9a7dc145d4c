package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// CommentInput is an internal note. Users are mentioned by id or by writing @their-email in
// the body; teams by id.
type CommentInput struct {
	Body           string
	MentionUserIDs []int64
	MentionTeamIDs []int64
}

// maxCommentBody bounds one comment.
const maxCommentBody = 64 << 10

// mentionPattern finds @email mentions: an @ at the start or after a space or punctuation
// (not inside an address), then an email address.
var mentionPattern = regexp.MustCompile(`(?:^|[^\w.@+-])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})`)

// mentionedEmails returns the email addresses mentioned in a body, lower-cased, each once.
func mentionedEmails(body string) []string {
	var out []string
	for _, m := range mentionPattern.FindAllStringSubmatch(body, 50) {
		e := strings.ToLower(strings.TrimRight(m[1], "."))
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// mentions is the stored shape of a comment's mentions.
type mentions struct {
	UserIDs []int64 `json:"user_ids"`
	TeamIDs []int64 `json:"team_ids"`
}

// Comment adds an internal note to the conversation's timeline, with the users and teams it
// mentions resolved (notifying them comes with notifications).
func (s *Service) Comment(ctx context.Context, actor *store.User, conversationID int64, in CommentInput) (*store.Comment, error) {
	conv, err := s.visibleConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	body := strings.TrimSpace(cleanText(in.Body))
	if body == "" {
		return nil, problem.Field("empty_comment", "body", "must not be empty")
	}
	if len(body) > maxCommentBody {
		return nil, problem.Field("comment_too_long", "body", "is longer than 65536 bytes")
	}
	var com *store.Comment
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		m := mentions{UserIDs: []int64{}, TeamIDs: []int64{}}
		for _, id := range in.MentionUserIDs {
			if _, err := tx.User(ctx, id); errors.Is(err, store.ErrNotFound) {
				return problem.Field("unknown_mention", "mention_user_ids", "holds an id that is not a user")
			} else if err != nil {
				return err
			}
			if !slices.Contains(m.UserIDs, id) {
				m.UserIDs = append(m.UserIDs, id)
			}
		}
		for _, email := range mentionedEmails(body) {
			u, err := tx.UserByEmail(ctx, email)
			if errors.Is(err, store.ErrNotFound) {
				continue // an address that is no user's is just text
			} else if err != nil {
				return err
			}
			if !slices.Contains(m.UserIDs, u.ID) {
				m.UserIDs = append(m.UserIDs, u.ID)
			}
		}
		for _, id := range in.MentionTeamIDs {
			if _, err := tx.Team(ctx, id); errors.Is(err, store.ErrNotFound) {
				return problem.Field("unknown_mention", "mention_team_ids", "holds an id that is not a team")
			} else if err != nil {
				return err
			}
			if !slices.Contains(m.TeamIDs, id) {
				m.TeamIDs = append(m.TeamIDs, id)
			}
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		com = &store.Comment{ConversationID: conv.ID, AuthorID: actor.ID, Body: body, Mentions: raw}
		if err := tx.InsertComment(ctx, com); err != nil {
			return err
		}
		events.CommentCreated(tx, com, conv.InboxID)
		return tx.IndexText(ctx, conv.ID, body)
	})
	if err != nil {
		return nil, err
	}
	return com, nil
}
