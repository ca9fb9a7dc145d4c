package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/store"
)

// chatKind is the kind of live chat channels (chat.Kind; a test keeps them equal). Only chats
// are mirrored, as in HubSpot: team email is not.
const chatKind = "chat"

// tailBatch bounds the events one pass of the mirror reads.
const tailBatch = 500

// slackReplyWait is how long the mirror holds back an agent's message while a reply from Slack
// by that agent to the conversation is being stored and not linked yet: longer than storing
// one reply takes, short enough that a reply whose job died is mirrored after all.
const slackReplyWait = 5 * time.Minute

// eventKeep is how long handled Slack deliveries are remembered: Slack retries for minutes.
const eventKeep = 24 * time.Hour

// RunMirror reads the event log and enqueues mirror jobs until ctx ends. Every node may run it:
// the cursor's compare-and-set lets one node enqueue each window of events.
func (s *Service) RunMirror(ctx context.Context) {
	every := s.PollInterval
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		n, err := s.MirrorOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.log().Warn("slack mirror: read the event log", "err", err)
		}
		if s.now().Sub(lastPrune) > time.Hour {
			lastPrune = s.now()
			if _, err := s.Store.DeleteSlackEventsBefore(ctx, s.now().Add(-eventKeep).UnixMilli()); err != nil && ctx.Err() == nil {
				s.log().Warn("slack mirror: forget old events", "err", err)
			}
		}
		if n == tailBatch && err == nil {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MirrorOnce reads the events after the mirror's cursor (up to a batch), enqueues a mirror job
// for each new message of a chat conversation in an inbox whose Slack mirror is on, moves the
// cursor in the same transaction, and returns how many events it read.
func (s *Service) MirrorOnce(ctx context.Context) (int, error) {
	cursor, err := s.Store.SlackMirrorCursor(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := s.Store.EventsAfter(ctx, cursor, tailBatch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	on, err := s.Store.EnabledSlackSettings(ctx)
	if err != nil {
		return 0, err
	}
	mirrored := map[int64]bool{}
	for _, c := range on {
		mirrored[c.InboxID] = c.Ready()
	}
	kinds := map[int64]string{} // channel id → kind, for this pass
	type todo struct{ message, conversation int64 }
	var jobs []todo
	for _, e := range evs {
		if e.Type != "message.created" || e.InboxID == nil || !mirrored[*e.InboxID] {
			continue
		}
		var m struct {
			ID             int64  `json:"id"`
			ConversationID int64  `json:"conversation_id"`
			ChannelID      *int64 `json:"channel_id"`
		}
		if err := json.Unmarshal(e.Data, &m); err != nil || m.ID == 0 || m.ChannelID == nil {
			continue
		}
		kind, ok := kinds[*m.ChannelID]
		if !ok {
			ch, err := s.Store.Channel(ctx, *m.ChannelID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return 0, err
			}
			if ch != nil {
				kind = ch.Kind
			}
			kinds[*m.ChannelID] = kind
		}
		if kind == chatKind {
			jobs = append(jobs, todo{m.ID, m.ConversationID})
		}
	}
	last := evs[len(evs)-1].Seq
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.AdvanceSlackMirrorCursor(ctx, cursor, last); err != nil {
			return err
		}
		for _, j := range jobs {
			if _, err := tx.EnqueueJob(ctx, store.NewJob{
				Kind:    MirrorJob,
				Payload: map[string]int64{"message_id": j.message},
				// One conversation's messages are posted one at a time, in order, and its
				// parent message exactly once before them.
				OrderingKey: "slack:conversation:" + strconv.FormatInt(j.conversation, 10),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return 0, nil // another node enqueued this window
	} else if err != nil {
		return 0, err
	}
	if len(jobs) > 0 {
		s.wakeJobs()
	}
	return len(evs), nil
}

// errWaitForSlackReply holds back an agent's message while their reply from Slack is stored.
var errWaitForSlackReply = errors.New("slack: a reply from Slack by this agent is being stored; waiting to tell it apart")

// HandleMirrorJob posts one message to its conversation's Slack thread, first posting the
// conversation's parent message when it has none in the inbox's channel. Its ts is recorded
// before the job completes, so a retry does not post twice.
func (s *Service) HandleMirrorJob(ctx context.Context, job *store.Job) error {
	var p struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.MessageID == 0 {
		return channel.Permanent(fmt.Errorf("slack mirror job %d: bad payload", job.ID))
	}
	msg, err := s.Store.Message(ctx, p.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted since
	} else if err != nil {
		return err
	}
	if _, err := s.Store.SlackMessage(ctx, msg.ID); err == nil {
		return nil // posted by an earlier attempt, or it came from Slack
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	conv, err := s.Store.Conversation(ctx, msg.ConversationID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	c, err := s.Store.SlackSettings(ctx, conv.InboxID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the conversation moved to an inbox without Slack
	} else if err != nil {
		return err
	}
	if !c.Ready() {
		return nil // switched off since
	}
	if msg.Direction == "outbound" && msg.AuthorID != nil {
		pending, err := s.Store.SlackReplyPending(ctx, conv.ID, *msg.AuthorID, s.now().Add(-slackReplyWait).UnixMilli())
		if err != nil {
			return err
		}
		if pending {
			return errWaitForSlackReply
		}
	}
	thread, err := s.Store.SlackThread(ctx, conv.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if thread == nil || thread.ChannelID != c.ChannelID {
		if thread, err = s.postParent(ctx, c, conv); err != nil {
			return err
		}
	}
	text, err := s.messageText(ctx, msg)
	if err != nil {
		return err
	}
	off := false
	ts, err := s.client().PostMessage(ctx, c.BotToken, Message{Channel: c.ChannelID, ThreadTS: thread.TS, Text: text,
		UnfurlLinks: &off, UnfurlMedia: &off})
	if err != nil {
		return err
	}
	return s.Store.InsertSlackMessage(ctx, &store.SlackMessage{MessageID: msg.ID, ConversationID: conv.ID, TS: ts,
		Origin: store.SlackFromParley})
}

// postParent posts the message that opens a conversation's thread: who is chatting, on which
// page, and a link to the conversation in Parley.
func (s *Service) postParent(ctx context.Context, c *store.SlackSettings, conv *store.Conversation) (*store.SlackThread, error) {
	who, page := "a visitor", ""
	if conv.ContactID != nil {
		if ct, err := s.Store.Contact(ctx, *conv.ContactID); err == nil && strings.TrimSpace(ct.Name) != "" {
			who = strings.TrimSpace(ct.Name)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if rest, ok := strings.CutPrefix(conv.ThreadKey, "visitor:"); ok {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			if v, err := s.Store.ChatVisitor(ctx, id); err == nil {
				page = v.PageURL
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	text := "New chat from " + Escape(clip(who, 200))
	if page != "" {
		text += " on " + Escape(clip(page, 500))
	}
	link := strings.TrimRight(s.BaseURL, "/") + "/inbox/" + strconv.FormatInt(conv.ID, 10)
	text += "\n" + linkText(link, "Open conversation #"+strconv.FormatInt(conv.Number, 10)+" in Parley") +
		" · replies in this thread go to the visitor"
	blocks, err := json.Marshal([]map[string]any{{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": text}}})
	if err != nil {
		return nil, err
	}
	off := false
	ts, err := s.client().PostMessage(ctx, c.BotToken, Message{Channel: c.ChannelID, Text: text, Blocks: blocks,
		UnfurlLinks: &off, UnfurlMedia: &off})
	if err != nil {
		return nil, err
	}
	t := &store.SlackThread{ConversationID: conv.ID, InboxID: conv.InboxID, ChannelID: c.ChannelID, TS: ts}
	if err := s.Store.SaveSlackThread(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// messageText is a message as the thread shows it: who wrote it, in bold, then its text.
func (s *Service) messageText(ctx context.Context, msg *store.Message) (string, error) {
	var sender struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(msg.Sender, &sender) // a sender without a name is named by its role
	name := strings.TrimSpace(sender.Name)
	switch {
	case msg.Direction == "inbound":
		if name == "" && msg.ChannelID != nil {
			conv, err := s.Store.Conversation(ctx, msg.ConversationID, 0)
			if err != nil {
				return "", err
			}
			if conv.ContactID != nil {
				if ct, err := s.Store.Contact(ctx, *conv.ContactID); err == nil {
					name = strings.TrimSpace(ct.Name)
				}
			}
		}
		if name == "" {
			name = "Visitor"
		}
	case msg.AuthorID != nil:
		if name == "" {
			if u, err := s.Store.User(ctx, *msg.AuthorID); err == nil {
				name = u.Name
			}
		}
		name += " (agent)"
	default:
		if name == "" {
			name = "Bot"
		} else {
			name += " (bot)"
		}
	}
	body := strings.TrimSpace(msg.Text)
	var files []json.RawMessage
	if json.Unmarshal(msg.Attachments, &files) == nil && len(files) > 0 {
		note := fmt.Sprintf("[%d file(s)]", len(files))
		if body == "" {
			body = note
		} else {
			body += "\n" + note
		}
	}
	return "*" + Escape(clip(name, 100)) + ":* " + Escape(clip(body, maxPostText)), nil
}
