package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// EventsHandler answers POST /slack/events: Slack's Events API requests for every inbox's app.
// It verifies the signature with the signing secret of the inbox whose Slack channel the event
// is in (any inbox's, for url_verification: Slack checks the URL before the mirror is on),
// answers challenges, and records thread replies with their jobs before answering 200. Any
// failure to record answers 500, and Slack retries.
func (s *Service) EventsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBody+1))
		if err != nil {
			http.Error(w, "cannot read the request", http.StatusBadRequest)
			return
		}
		if len(body) > MaxEventBody {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		timestamp, signature := r.Header.Get("X-Slack-Request-Timestamp"), r.Header.Get("X-Slack-Signature")
		if err := CheckTimestamp(timestamp, s.now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		env, perr := ParseEnvelope(body)
		c, err := s.verified(r.Context(), env, timestamp, signature, body)
		if err != nil {
			s.log().Error("slack events: read settings", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if c == nil {
			// Unsigned, signed with no secret we hold, or unreadable: the same answer, so
			// nothing is learned about which channels are connected.
			http.Error(w, ErrBadSignature.Error(), http.StatusUnauthorized)
			return
		}
		if perr != nil {
			http.Error(w, perr.Error(), http.StatusBadRequest)
			return
		}
		switch env.Type {
		case TypeURLVerification:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"challenge": env.Challenge})
			return
		case TypeEventCallback:
			if err := s.record(r.Context(), c, env); err != nil {
				s.log().Error("slack events: record an event", "event_id", env.EventID, "retry", r.Header.Get("X-Slack-Retry-Num"), "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// verified returns the settings whose signing secret signed the request, or nil. For an event
// in a channel, only the inboxes mirroring into that channel (and, once tested, that
// workspace) are candidates; for anything else, every inbox with a secret.
func (s *Service) verified(ctx context.Context, env *Envelope, timestamp, signature string, body []byte) (*store.SlackSettings, error) {
	var candidates []*store.SlackSettings
	var err error
	if env != nil && env.Type == TypeEventCallback && env.Event.Channel != "" {
		candidates, err = s.Store.SlackSettingsByChannel(ctx, env.Event.Channel)
	} else {
		candidates, err = s.Store.AllSlackSettings(ctx)
	}
	if err != nil {
		return nil, err
	}
	for _, c := range candidates {
		if env != nil && env.TeamID != "" && c.TeamID != "" && env.TeamID != c.TeamID {
			continue
		}
		if Verify(c.SigningSecret, timestamp, signature, body) == nil {
			return c, nil
		}
	}
	return nil, nil
}

// eventJob is the payload of an EventJob: what the job needs of the Slack message.
type eventJob struct {
	InboxID  int64  `json:"inbox_id"`
	EventID  string `json:"event_id"`
	Channel  string `json:"channel"`
	User     string `json:"user"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
}

// record stores a thread reply's event and its job in one transaction. Events that are not a
// person's reply in a thread Parley opened are acknowledged and dropped.
func (s *Service) record(ctx context.Context, verifiedBy *store.SlackSettings, env *Envelope) error {
	ev := &env.Event
	if !ev.Reply() || (verifiedBy.BotUserID != "" && ev.User == verifiedBy.BotUserID) {
		return nil
	}
	thread, err := s.Store.SlackThreadByTS(ctx, ev.Channel, ev.ThreadTS)
	if errors.Is(err, store.ErrNotFound) {
		return nil // a thread of people talking among themselves
	} else if err != nil {
		return err
	}
	// The conversation's inbox at the time Parley opened the thread is the one whose secret
	// must have signed; several inboxes sharing one app share one secret.
	c, err := s.Store.SlackSettings(ctx, thread.InboxID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if c.SigningSecret != verifiedBy.SigningSecret {
		return nil
	}
	inserted := false
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		inserted, err = tx.InsertSlackEvent(ctx, &store.SlackEvent{InboxID: thread.InboxID, EventID: env.EventID,
			ConversationID: thread.ConversationID})
		if err != nil || !inserted {
			return err // a retried delivery: recorded already
		}
		_, err = tx.EnqueueJob(ctx, store.NewJob{Kind: EventJob, Payload: eventJob{InboxID: thread.InboxID, EventID: env.EventID,
			Channel: ev.Channel, User: ev.User, Text: ev.Text, TS: ev.TS, ThreadTS: ev.ThreadTS}})
		return err
	})
	if err == nil && inserted {
		s.wakeJobs()
	}
	return err
}

// HandleEventJob turns a Slack thread reply into an agent's reply: it looks the Slack user up,
// matches a Parley user by email and stores the reply, which the deliver job takes to the
// visitor. A Slack user who is no Parley user, or who may not reply there, is told so in an
// ephemeral message only they see.
func (s *Service) HandleEventJob(ctx context.Context, job *store.Job) error {
	var p eventJob
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.EventID == "" {
		return channel.Permanent(fmt.Errorf("slack event job %d: bad payload", job.ID))
	}
	ev, err := s.Store.SlackEvent(ctx, p.InboxID, p.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // forgotten: far older than any retry
	} else if err != nil {
		return err
	}
	if ev.DoneAt != nil {
		return nil
	}
	c, err := s.Store.SlackSettings(ctx, p.InboxID)
	if errors.Is(err, store.ErrNotFound) || err == nil && c.BotToken == "" {
		return s.Store.FinishSlackEvent(ctx, p.InboxID, p.EventID, nil)
	} else if err != nil {
		return err
	}
	text := PlainText(p.Text)
	link := &store.SlackMessage{ConversationID: ev.ConversationID, TS: p.TS, Origin: store.SlackFromSlack}

	// An earlier attempt may have stored the reply and failed before linking it.
	if ev.UserID != nil && ev.ReplyingAt != nil {
		earlier, err := s.Store.UnlinkedSlackReplies(ctx, ev.ConversationID, *ev.UserID, *ev.ReplyingAt)
		if err != nil {
			return err
		}
		for _, m := range earlier {
			if sameText(m.Text, text) {
				link.MessageID = m.ID
				return s.Store.FinishSlackEvent(ctx, p.InboxID, p.EventID, link)
			}
		}
	}

	su, err := s.client().UsersInfo(ctx, c.BotToken, p.User)
	if err != nil {
		return err
	}
	if su.IsBot {
		return s.Store.FinishSlackEvent(ctx, p.InboxID, p.EventID, nil)
	}
	email := strings.TrimSpace(su.Profile.Email)
	var u *store.User
	if email != "" {
		u, err = s.Store.UserByEmail(ctx, email)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if u == nil || u.DeactivatedAt != nil {
		note := "Your reply was not sent to the visitor: your Slack email is not the email of a Parley user. " +
			"Ask an admin to add you to Parley with the email of your Slack profile."
		if email == "" {
			note = "Your reply was not sent to the visitor: Parley cannot see your Slack email (the app needs the users:read.email scope), " +
				"so it cannot tell which Parley user you are."
		}
		s.tell(ctx, c, p, note)
		return s.Store.FinishSlackEvent(ctx, p.InboxID, p.EventID, nil)
	}
	if text == "" {
		return s.Store.FinishSlackEvent(ctx, p.InboxID, p.EventID, nil)
	}
	if err := s.Store.MarkSlackEventReplying(ctx, p.InboxID, p.EventID, u.ID, s.now().UnixMilli()); err != nil {
		return err
	}
	msg, err := s.Inbox.Reply(ctx, u, ev.ConversationID, inbox.ReplyInput{Text: text})
	if err != nil {
		if pe, ok := problem.As(err); ok {
			// Not the agent's inbox, a closed channel, an empty message…: retrying cannot help.
			s.tell(ctx, c, p, "Your reply was not sent to the visitor: "+pe.Detail)
			return s.Store.FinishSlackEvent(ctx, p.InboxID, p.EventID, nil)
		}
		return err
	}
	link.MessageID = msg.ID
	return s.Store.FinishSlackEvent(ctx, p.InboxID, p.EventID, link)
}

// tell posts an ephemeral note to the Slack user in the thread. It is a courtesy: a failure is
// logged, not retried.
func (s *Service) tell(ctx context.Context, c *store.SlackSettings, p eventJob, text string) {
	if err := s.client().PostEphemeral(ctx, c.BotToken, p.Channel, p.User, p.ThreadTS, text); err != nil {
		s.log().Warn("slack: tell a user why their reply was not sent", "event_id", p.EventID, "err", err)
	}
}

// sameText compares a stored reply with the text sent, ignoring what storing normalises
// (line endings, surrounding space).
func sameText(stored, sent string) bool {
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	return norm(stored) == norm(sent)
}
