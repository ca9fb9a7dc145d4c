package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/jobs"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// webhookTarget is an integration's webhook endpoint. It verifies every request the way a
// HubSpot integration does — v3 HMAC over method, full URL, raw body and timestamp, refused when
// older than five minutes — and records the events it accepted. It answers 503 to the first
// downFor requests (a target that is down for a while), then mode's status.
type webhookTarget struct {
	t      *testing.T
	srv    *httptest.Server
	secret func() string

	mu       sync.Mutex
	downFor  int
	refused  int
	status   int // the answer once up (200 by default)
	accepted []map[string]any
	badSigs  []string
}

func newWebhookTarget(t *testing.T, downFor int) *webhookTarget {
	wt := &webhookTarget{t: t, downFor: downFor, status: http.StatusOK}
	wt.srv = httptest.NewServer(http.HandlerFunc(wt.serve))
	t.Cleanup(wt.srv.Close)
	return wt
}

func (wt *webhookTarget) url() string { return wt.srv.URL + "/hooks/parley?portal=1" }

func (wt *webhookTarget) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if why := wt.verify(r, body); why != "" {
		wt.badSigs = append(wt.badSigs, why)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if wt.refused < wt.downFor {
		wt.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if wt.status != http.StatusOK {
		http.Error(w, "recipient unknown", wt.status)
		return
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		wt.badSigs = append(wt.badSigs, "body is not a JSON object: "+err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	wt.accepted = append(wt.accepted, ev)
	w.WriteHeader(http.StatusOK)
}

// verify is what HubSpot's request-validation guide tells integrations to do; "" means valid.
func (wt *webhookTarget) verify(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		return "method or content type: " + r.Method + " " + r.Header.Get("Content-Type")
	}
	ts := r.Header.Get("X-HubSpot-Request-Timestamp")
	sig := r.Header.Get("X-HubSpot-Signature-v3")
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return "missing signature headers"
	}
	if time.Now().UnixMilli()-ms > 5*60*1000 {
		return "timestamp older than five minutes"
	}
	uri := "http://" + r.Host + r.URL.RequestURI()
	mac := hmac.New(sha256.New, []byte(wt.secret()))
	mac.Write([]byte(r.Method + uri + string(body) + ts))
	if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(sig)) {
		return "v3 signature mismatch"
	}
	v2 := sha256.Sum256([]byte(wt.secret() + r.Method + uri + string(body)))
	if r.Header.Get("X-HubSpot-Signature-Version") != "v2" || r.Header.Get("X-HubSpot-Signature") != hex.EncodeToString(v2[:]) {
		return "v2 signature mismatch"
	}
	return ""
}

// events returns the accepted events of a type.
func (wt *webhookTarget) events(typ string) []map[string]any {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	var out []map[string]any
	for _, ev := range wt.accepted {
		if ev["type"] == typ {
			out = append(out, ev)
		}
	}
	return out
}

func (wt *webhookTarget) setStatus(code int) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	wt.status = code
}

func (wt *webhookTarget) checkSignatures(t *testing.T) {
	t.Helper()
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if len(wt.badSigs) > 0 {
		t.Fatalf("the target refused requests: %v", wt.badSigs)
	}
}

// startDelivery wires the custom Sender into the inbox and runs a job runner with a tiny backoff
// until the test ends.
func startDelivery(t *testing.T, ts *testServer, s *store.Store) *custom.Sender {
	t.Helper()
	sender := custom.NewSender(s, &http.Client{}, "243842089")
	ts.Inbox.Senders = map[string]channel.Sender{custom.Kind: sender}
	runner := &jobs.Runner{
		Store:        s,
		Handlers:     map[string]jobs.Handler{inbox.DeliverJob: ts.Inbox.Deliver, custom.AccountEventJob: sender.HandleAccountEvent},
		Log:          ts.API.Log,
		PollInterval: 20 * time.Millisecond,
		Backoff:      func(int) time.Duration { return 25 * time.Millisecond },
	}
	ts.Inbox.WakeJobs = runner.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := runner.Run(ctx); err != nil {
			t.Errorf("runner: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return sender
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCustomChannelDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		// Down for the first eight requests: every early delivery attempt fails and is retried.
		target := newWebhookTarget(t, 8)
		ts := newTestServer(t, s)
		startDelivery(t, ts, s)
		f := &ccFixture{ts: ts, admin: ts.admin(t), inbox: ts.inbox(t, "Support", nil, nil)}
		var secret string
		var secretMu sync.Mutex
		target.secret = func() string { secretMu.Lock(); defer secretMu.Unlock(); return secret }
		id, sec := f.register(t, "Telegram", "INTEGRATION_THREAD_ID", target.url(), "CHANNEL_SPECIFIC_OPAQUE_ID")
		secretMu.Lock()
		f.channelID, secret = id, sec
		secretMu.Unlock()
		f.accountID = f.account(t, f.channelID, "Acme on Telegram", opaque("acme-bot"))
		agent := ts.agent(t)

		// Two customers write in; an agent replies to both, interleaved, while the target is down.
		_, a := f.publish(t, ccV1, f.incoming("chat-a", "a1", "Hello from A", opaque("tg-chat:a")))
		_, b := f.publish(t, ccV1, f.incoming("chat-b", "b1", "Hello from B", opaque("tg-chat:b")))
		convA, convB := a["conversationsThreadId"].(string), b["conversationsThreadId"].(string)
		replies := map[string][]string{} // conversation → reply message ids in creation order
		texts := map[string]string{}
		for i, conv := range []string{convA, convB, convA, convA, convB} {
			text := fmt.Sprintf("Reply %d", i)
			var m map[string]any
			ts.doInto(t, "POST", "/api/v1/conversations/"+conv+"/messages", agent.Token,
				map[string]any{"text": text, "html": "<p><b>" + text + "</b></p>"}, http.StatusCreated, &m)
			mid := strconv.FormatInt(int64(m["id"].(float64)), 10)
			replies[conv] = append(replies[conv], mid)
			texts[mid] = text
		}

		// Once back, every reply arrives exactly once, in creation order per conversation.
		waitFor(t, "five deliveries", func() bool { return len(target.events("OUTGOING_CHANNEL_MESSAGE_CREATED")) >= 5 })
		time.Sleep(100 * time.Millisecond) // room for a duplicate to show up
		target.checkSignatures(t)
		target.mu.Lock()
		refused := target.refused
		target.mu.Unlock()
		if refused != 8 {
			t.Fatalf("the target refused %d requests, want 8", refused)
		}
		events := target.events("OUTGOING_CHANNEL_MESSAGE_CREATED")
		if len(events) != 5 {
			t.Fatalf("%d deliveries, want 5 (each reply once)", len(events))
		}
		got := map[string][]string{}
		for _, ev := range events {
			msg := ev["message"].(map[string]any)
			mid := msg["id"].(string)
			conv := msg["conversationsThreadId"].(string)
			got[conv] = append(got[conv], mid)
			thread := map[string]string{convA: "chat-a", convB: "chat-b"}[conv]
			customer := map[string]string{convA: "tg-chat:a", convB: "tg-chat:b"}[conv]
			rcpt := msg["recipients"].([]any)[0].(map[string]any)
			sndr := msg["senders"].([]any)[0].(map[string]any)
			if ev["portalId"] != "243842089" || ev["channelId"] != f.channelID || ev["eventId"] != "msg-"+mid ||
				fmt.Sprint(ev["channelIntegrationThreadIds"]) != "["+thread+"]" ||
				msg["text"] != texts[mid] || msg["richText"] != "<p><b>"+texts[mid]+"</b></p>" ||
				msg["direction"] != "OUTGOING" || msg["channelAccountId"] != f.accountID ||
				msg["createdBy"] != "A-"+strconv.FormatInt(agent.ID, 10) || msg["truncationStatus"] != "NOT_TRUNCATED" ||
				msg["status"].(map[string]any)["statusType"] != "SENT" ||
				rcpt["deliveryIdentifier"].(map[string]any)["value"] != customer || rcpt["name"] != "Ada" ||
				sndr["name"] != agent.Name || sndr["deliveryIdentifier"].(map[string]any)["value"] != "acme-bot" {
				t.Errorf("event %v", ev)
			}
		}
		for _, conv := range []string{convA, convB} {
			if fmt.Sprint(got[conv]) != fmt.Sprint(replies[conv]) {
				t.Errorf("conversation %s: delivered %v, want %v in creation order", conv, got[conv], replies[conv])
			}
		}
		// The account's creation was announced too, signed the same way (its job retries on its
		// own schedule, so it may still be on its way).
		waitFor(t, "the account creation event", func() bool { return len(target.events("CHANNEL_ACCOUNT_CREATED")) > 0 })
		if evs := target.events("CHANNEL_ACCOUNT_CREATED"); len(evs) != 1 || evs[0]["channelAccountId"] != f.accountID {
			t.Errorf("account events %v", evs)
		}

		// Every reply ends up sent.
		allSent := func() bool {
			for _, conv := range []string{convA, convB} {
				for _, m := range f.timelineMessages(t, conv) {
					if m["direction"] == "outbound" && m["status"] != "sent" {
						return false
					}
				}
			}
			return true
		}
		waitFor(t, "replies marked sent", allSent)

		// A 400 from the target fails the message, with the reason visible in the API.
		target.setStatus(http.StatusBadRequest)
		var m map[string]any
		ts.doInto(t, "POST", "/api/v1/conversations/"+convB+"/messages", agent.Token, map[string]any{"text": "Doomed"}, http.StatusCreated, &m)
		failedID := int64(m["id"].(float64))
		var reason string
		waitFor(t, "the reply to fail", func() bool {
			for _, m := range f.timelineMessages(t, convB) {
				if int64(m["id"].(float64)) == failedID && m["status"] == "failed" {
					reason = m["failure_reason"].(string)
					return true
				}
			}
			return false
		})
		if !strings.Contains(reason, "400") {
			t.Fatalf("failure reason %q does not name the 400", reason)
		}
		// Through the custom channels API the message shows FAILED with the reason.
		status, got400 := ts.do(t, "GET", ccV3+"/"+f.channelID+"/messages/"+strconv.FormatInt(failedID, 10), f.admin.Token, nil)
		st := got400["status"].(map[string]any)
		if status != 200 || st["statusType"] != "FAILED" || !strings.Contains(st["failureDetails"].(map[string]any)["errorMessage"].(string), "400") {
			t.Fatalf("failed message: %d %v", status, got400)
		}

		// The integration reports a read receipt for a delivered reply.
		read := replies[convA][0]
		ts.doInto(t, "PATCH", ccV1+"/"+f.channelID+"/messages/"+read, f.admin.Token, map[string]any{"statusType": "READ"}, 200, nil)
		for _, m := range f.timelineMessages(t, convA) {
			if strconv.FormatInt(int64(m["id"].(float64)), 10) == read && m["status"] != "read" {
				t.Fatalf("read receipt: %v", m)
			}
		}

		// Deauthorizing the account is announced as CHANNEL_ACCOUNT_UPDATED.
		target.setStatus(http.StatusOK)
		ts.doInto(t, "PATCH", ccV1+"/"+f.channelID+"/channel-accounts/"+f.accountID, f.admin.Token, map[string]any{"authorized": false}, 200, nil)
		waitFor(t, "the account update event", func() bool { return len(target.events("CHANNEL_ACCOUNT_UPDATED")) == 1 })
		if ev := target.events("CHANNEL_ACCOUNT_UPDATED")[0]; ev["authorized"] != false || ev["channelAccountId"] != f.accountID ||
			ev["channelAccountDeliveryIdentifier"].(map[string]any)["value"] != "acme-bot" {
			t.Fatalf("account update event %v", ev)
		}
		target.checkSignatures(t)
	})
}

func TestCustomChannelReplyChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		// No runner: these replies are checked when queued; none needs to go out.
		ts.Inbox.Senders = map[string]channel.Sender{custom.Kind: custom.NewSender(s, &http.Client{}, "")}
		admin := ts.admin(t)
		f := &ccFixture{ts: ts, admin: admin, inbox: ts.inbox(t, "Support", nil, nil)}
		register := func(caps map[string]any) string {
			var out map[string]any
			ts.doInto(t, "POST", ccV1, admin.Token, map[string]any{"name": "C", "capabilities": caps, "webhookUrl": "http://127.0.0.1:1/hook"}, 201, &out)
			return out["id"].(string)
		}
		conversationOn := func(channelID string) string {
			f.channelID = channelID
			f.accountID = f.account(t, channelID, "Account", opaque("biz"))
			_, m := f.publish(t, ccV1, f.incoming("t", "k-"+channelID, "Hi", opaque("cust")))
			return m["conversationsThreadId"].(string)
		}
		noReplies := conversationOn(register(map[string]any{"deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID"}, "allowOutgoingMessages": false}))
		plain := conversationOn(register(map[string]any{"deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID"},
			"outgoingAttachmentTypes": []string{"FILE"}, "maxFileAttachmentCount": 1, "maxFileAttachmentSizeBytes": 1000,
			"allowedFileAttachmentMimeTypes": []string{"image/*"}}))
		file := func(name, ct string, size int) map[string]any {
			return map[string]any{"id": name, "name": name, "url": "https://files.example/" + name, "content_type": ct, "size": size}
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "outgoing not allowed", Method: "POST", Path: "/api/v1/conversations/" + noReplies + "/messages", Token: admin.Token,
				Body: map[string]any{"text": "Hi"}, Status: 409, Code: "outgoing_messages_not_allowed"},
			{Name: "too many attachments", Method: "POST", Path: "/api/v1/conversations/" + plain + "/messages", Token: admin.Token,
				Body: map[string]any{"text": "Hi", "attachments": []any{file("a.png", "image/png", 10), file("b.png", "image/png", 10)}}, Status: 400, Code: "too_many_attachments"},
			{Name: "attachment too large", Method: "POST", Path: "/api/v1/conversations/" + plain + "/messages", Token: admin.Token,
				Body: map[string]any{"text": "Hi", "attachments": []any{file("a.png", "image/png", 1001)}}, Status: 400, Code: "attachment_too_large"},
			{Name: "attachment type", Method: "POST", Path: "/api/v1/conversations/" + plain + "/messages", Token: admin.Token,
				Body: map[string]any{"text": "Hi", "attachments": []any{file("a.pdf", "application/pdf", 10)}}, Status: 400, Code: "attachment_type_not_allowed"},
			{Name: "rich text becomes plain", Method: "POST", Path: "/api/v1/conversations/" + plain + "/messages", Token: admin.Token,
				Body: map[string]any{"text": "Bold move", "html": "<b>Bold</b> move", "attachments": []any{file("a.png", "image/png", 10)}}, Status: 201,
				Contains: []string{`"html":""`, `"text":"Bold move"`}},
		})
	})
}
