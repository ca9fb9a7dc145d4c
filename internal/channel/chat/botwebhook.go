package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat/bot"
	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/store"
)

// A bot's webhook step (CHAT-9) is a durable job: enqueued in the transaction that reached the
// step, it POSTs what the bot collected, signed, and feeds the response back to the bot, which
// waits meanwhile. A receiver that cannot be reached or answers 408, 429 or 5xx is tried again
// (three attempts, a few seconds apart: a visitor is waiting); after the last the bot goes on as
// its step says for a failed call.

// JobBotWebhook is the job kind of a bot's webhook call.
const JobBotWebhook = "chat.bot_webhook"

// Headers of a bot's webhook request. The signature is the custom channels' (HubSpot v3
// style): Base64(HMAC-SHA256(the bot's webhook secret, "POST" + URL + body + timestamp)), with
// the timestamp in unix milliseconds; custom.Verify and `parley webhook-listen` check it.
const (
	HeaderBotSignature = "X-Parley-Signature"
	HeaderBotTimestamp = "X-Parley-Request-Timestamp"
)

const (
	botWebhookAttempts = 3
	botWebhookTimeout  = 10 * time.Second
	// maxBotWebhookResponse is what the bot reads of a response at most (bot's own limit).
	maxBotWebhookResponse = 1 << 20
)

var botWebhookClient = &http.Client{Timeout: botWebhookTimeout}

// botWebhookJob is a webhook job's payload.
type botWebhookJob struct {
	ConversationID int64  `json:"conversation_id"`
	BotID          int64  `json:"bot_id"`
	Version        int64  `json:"version"`
	Step           string `json:"step"`
	URL            string `json:"url"`
	Body           []byte `json:"body"`
}

func enqueueWebhook(ctx context.Context, tx *store.Tx, conversationID int64, run *store.BotRun, o bot.WebhookRequest) error {
	_, err := tx.EnqueueJob(ctx, store.NewJob{Kind: JobBotWebhook, MaxAttempts: botWebhookAttempts,
		OrderingKey: "bot:" + strconv.FormatInt(conversationID, 10),
		Payload: botWebhookJob{ConversationID: conversationID, BotID: run.BotID, Version: run.Version, Step: o.StepID,
			URL: o.URL, Body: o.Body}})
	return err
}

// waitsFor reports whether a run is active and waiting for the webhook of step.
func waitsFor(run *store.BotRun, step string) (bot.State, bool) {
	var st bot.State
	if run.Status != store.BotRunActive || json.Unmarshal(run.State, &st) != nil {
		return st, false
	}
	return st, st.Awaiting == bot.AwaitingWebhook && st.Step == step
}

// HandleBotWebhook runs a JobBotWebhook job: it calls the webhook and steps the bot with the
// outcome. A run that no longer waits for it (an agent took over) is left alone.
func (s *Service) HandleBotWebhook(ctx context.Context, job *store.Job) error {
	var p botWebhookJob
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return channel.Permanent(fmt.Errorf("bot webhook payload: %w", err))
	}
	run, err := s.Store.BotRun(ctx, p.ConversationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if _, ok := waitsFor(run, p.Step); !ok || run.BotID != p.BotID || run.Version != p.Version {
		return nil
	}
	b, err := s.loadBot(ctx, p.BotID, p.Version)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	status, body, err := s.postBotWebhook(ctx, b.secret, p.URL, p.Body)
	if err != nil {
		if job.Attempts < job.MaxAttempts {
			return err
		}
		s.log().Warn("chat: a bot's webhook failed; the bot goes on without it", "conversation_id", p.ConversationID,
			"err", err)
	}
	return s.webhookDone(ctx, b, p, status, body)
}

// postBotWebhook POSTs a signed body. A response the receiver may answer better later (408, 429,
// 5xx) and no response at all are errors; other statuses are outcomes for the bot.
func (s *Service) postBotWebhook(ctx context.Context, secret, url string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, botWebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, channel.Permanent(fmt.Errorf("bot webhook URL: %w", err))
	}
	ts := s.now().UnixMilli()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set(HeaderBotTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderBotSignature, custom.Sign(secret, http.MethodPost, custom.CanonicalURI(url), body, ts))
	resp, err := botWebhookClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("bot webhook: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBotWebhookResponse+1))
	if err != nil {
		return 0, nil, fmt.Errorf("bot webhook response: %w", err)
	}
	if resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return resp.StatusCode, data, fmt.Errorf("bot webhook answered %d", resp.StatusCode)
	}
	return resp.StatusCode, data, nil
}

// webhookDone steps a conversation's bot with a webhook's outcome, in one transaction with what
// the bot does next, then pushes its messages and hands off as a visitor's message would.
func (s *Service) webhookDone(ctx context.Context, b *botRunning, p botWebhookJob, status int, body []byte) error {
	t := &botTurn{s: s, b: b}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		t.said, t.handoff, t.jobs = nil, nil, false
		c, err := tx.Conversation(ctx, p.ConversationID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		run, err := tx.BotRun(ctx, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		st, ok := waitsFor(run, p.Step)
		if !ok || run.BotID != p.BotID || run.Version != p.Version {
			return nil
		}
		t.flowID = run.FlowID
		before := store.CopyConversation(c)
		st, outs := bot.Step(b.def, st, bot.WebhookResponse(status, body))
		if err := t.apply(ctx, tx, c, run, st, outs); err != nil {
			return err
		}
		if err := tx.UpdateConversationFrom(ctx, before, c); err != nil {
			return err
		}
		events.ConversationUpdated(tx, c)
		return nil
	})
	if err != nil {
		return err
	}
	if t.conv != nil {
		if id, ok := visitorOf(t.conv.ThreadKey); ok {
			t.visitor = id
		}
		t.after(ctx)
	}
	return nil
}
