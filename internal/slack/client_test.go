package slack_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/slack"
)

func TestClientPostsAsSlackExpects(t *testing.T) {
	fs := newFakeSlack(t)
	c := &slack.Client{BaseURL: fs.srv.URL}
	ctx := context.Background()

	parent, err := c.PostMessage(ctx, fakeToken, slack.Message{Channel: fakeChanID, Text: "New chat"})
	if err != nil || parent == "" {
		t.Fatalf("parent: %q %v", parent, err)
	}
	reply, err := c.PostMessage(ctx, fakeToken, slack.Message{Channel: fakeChanID, Text: "*Ada:* hi", ThreadTS: parent})
	if err != nil || reply == parent {
		t.Fatalf("reply: %q %v", reply, err)
	}
	if p := fs.Posts(); len(p) != 2 || p[1].ThreadTS != parent || p[1].Text != "*Ada:* hi" {
		t.Fatalf("posts %+v", p)
	}
	id, err := c.AuthTest(ctx, fakeToken)
	if err != nil || id.TeamID != fakeTeam || id.UserID != fakeBotID {
		t.Fatalf("auth.test %+v %v", id, err)
	}
	fs.set(func(f *fakeSlack) { f.users["U1"] = "ada@example.com" })
	u, err := c.UsersInfo(ctx, fakeToken, "U1")
	if err != nil || u.Profile.Email != "ada@example.com" {
		t.Fatalf("users.info %+v %v", u, err)
	}
	if err := c.PostEphemeral(ctx, fakeToken, fakeChanID, "U1", parent, "only you"); err != nil {
		t.Fatal(err)
	}
	if e := fs.Ephemeral(); len(e) != 1 || e[0].User != "U1" || e[0].ThreadTS != parent {
		t.Fatalf("ephemeral %+v", e)
	}
}

func TestClientErrors(t *testing.T) {
	fs := newFakeSlack(t)
	c := &slack.Client{BaseURL: fs.srv.URL, MaxWait: 2 * time.Second}
	ctx := context.Background()

	// Slack answers 200 with ok:false; a bad token cannot get better by retrying.
	_, err := c.PostMessage(ctx, "xoxb-wrong", slack.Message{Channel: fakeChanID, Text: "x"})
	var se *slack.Error
	if !errors.As(err, &se) || se.Code != "invalid_auth" || !se.Permanent() {
		t.Fatalf("bad token: %#v", err)
	}
	_, err = c.PostMessage(ctx, fakeToken, slack.Message{Channel: "C0NOWHERE", Text: "x"})
	if !slack.IsCode(err, "channel_not_found") || !errors.As(err, &se) || !se.Permanent() {
		t.Fatalf("unknown channel: %v", err)
	}
	fs.set(func(f *fakeSlack) { f.fail["chat.postMessage"] = "internal_error" })
	_, err = c.PostMessage(ctx, fakeToken, slack.Message{Channel: fakeChanID, Text: "x"})
	if !errors.As(err, &se) || se.Permanent() {
		t.Fatalf("slack's own trouble is worth a retry: %v", err)
	}
	fs.set(func(f *fakeSlack) { delete(f.fail, "chat.postMessage") })

	// A short Retry-After is waited out once, within the call.
	fs.set(func(f *fakeSlack) { f.limit, f.retryAfter = 1, "1" })
	start := time.Now()
	if _, err := c.PostMessage(ctx, fakeToken, slack.Message{Channel: fakeChanID, Text: "after a pause"}); err != nil {
		t.Fatalf("after 429: %v", err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("did not honour Retry-After: %v", waited)
	}
	// A long one is handed back, transient, for the job's own backoff.
	fs.set(func(f *fakeSlack) { f.limit, f.retryAfter = 1, "120" })
	_, err = c.PostMessage(ctx, fakeToken, slack.Message{Channel: fakeChanID, Text: "later"})
	if !errors.As(err, &se) || se.Status != 429 || se.RetryAfter != 120*time.Second || se.Permanent() {
		t.Fatalf("long rate limit: %#v", err)
	}
	if p := fs.Posts(); len(p) != 1 || p[0].Text != "after a pause" {
		t.Fatalf("posts %+v", p)
	}
}

func TestVerify(t *testing.T) {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	body := []byte(`{"type":"url_verification","challenge":"abc"}`)
	now := time.Unix(1_700_000_000, 0)
	ts := "1700000000"
	good := slack.Sign(secret, ts, body)
	if !strings.HasPrefix(good, "v0=") || len(good) != 3+64 {
		t.Fatalf("signature %q", good)
	}
	// Slack's documented example: the same base string gives the same signature.
	if slack.Sign(secret, ts, body) != good {
		t.Fatal("not deterministic")
	}
	if err := slack.CheckTimestamp(ts, now.Add(4*time.Minute)); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	if err := slack.Verify(secret, ts, good, body); err != nil {
		t.Fatalf("good: %v", err)
	}
	for name, tc := range map[string]struct {
		ts, sig string
		body    []byte
		secret  string
		want    error
	}{
		"tampered body":  {ts, good, []byte(`{"type":"url_verification","challenge":"abd"}`), secret, slack.ErrBadSignature},
		"other secret":   {ts, good, body, "0000000000000000", slack.ErrBadSignature},
		"other time":     {"1700000001", good, body, secret, slack.ErrBadSignature},
		"no signature":   {ts, "", body, secret, slack.ErrNoSignature},
		"v1 scheme":      {ts, "v1=" + good[3:], body, secret, slack.ErrBadSignature},
		"upper-case hex": {ts, "v0=" + strings.ToUpper(good[3:]), body, secret, slack.ErrBadSignature},
		"no secret held": {ts, good, body, "", slack.ErrBadSignature},
	} {
		if err := slack.Verify(tc.secret, tc.ts, tc.sig, tc.body); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	for name, tc := range map[string]string{"stale": "1699999600", "future": "1700000400", "garbage": "soon", "empty": ""} {
		if err := slack.CheckTimestamp(tc, now); err == nil {
			t.Errorf("%s timestamp accepted", name)
		}
	}
}

func TestParseEnvelope(t *testing.T) {
	ok := map[string]string{
		"challenge": `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
		"reply": `{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev1","event_time":1,
			"event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"2.0","thread_ts":"1.0"},"new_field":[1]}`,
		"rate limited": `{"token":"x","team_id":"T1","minute_rate_limited":1,"type":"app_rate_limited"}`,
	}
	for name, body := range ok {
		if _, err := slack.ParseEnvelope([]byte(body)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]string{
		"not json":         `type=url_verification`,
		"array":            `[{"type":"url_verification"}]`,
		"no type":          `{"challenge":"x"}`,
		"no challenge":     `{"type":"url_verification"}`,
		"no event id":      `{"type":"event_callback","event":{"type":"message"}}`,
		"no event type":    `{"type":"event_callback","event_id":"Ev1","event":{}}`,
		"control in id":    `{"type":"event_callback","event_id":"Ev\n1","event":{"type":"message"}}`,
		"wrong field type": `{"type":"event_callback","event_id":1,"event":{"type":"message"}}`,
	}
	for name, body := range bad {
		if _, err := slack.ParseEnvelope([]byte(body)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	big := `{"type":"url_verification","challenge":"` + strings.Repeat("a", slack.MaxEventBody) + `"}`
	if _, err := slack.ParseEnvelope([]byte(big)); err == nil {
		t.Error("oversized body accepted")
	}
}

func TestReplyEvents(t *testing.T) {
	base := slack.Event{Type: "message", Channel: "C1", User: "U1", Text: "hi", TS: "2.0", ThreadTS: "1.0"}
	cases := map[string]struct {
		edit func(e *slack.Event)
		want bool
	}{
		"thread reply":      {func(e *slack.Event) {}, true},
		"also to channel":   {func(e *slack.Event) { e.Subtype = "thread_broadcast" }, true},
		"top-level message": {func(e *slack.Event) { e.ThreadTS = "" }, false},
		"thread parent":     {func(e *slack.Event) { e.ThreadTS = e.TS }, false},
		"a bot's":           {func(e *slack.Event) { e.BotID = "B1" }, false},
		"edit":              {func(e *slack.Event) { e.Subtype = "message_changed" }, false},
		"deletion":          {func(e *slack.Event) { e.Subtype = "message_deleted" }, false},
		"bot message":       {func(e *slack.Event) { e.Subtype = "bot_message" }, false},
		"no user":           {func(e *slack.Event) { e.User = "" }, false},
		"reaction":          {func(e *slack.Event) { e.Type = "reaction_added" }, false},
	}
	for name, tc := range cases {
		e := base
		tc.edit(&e)
		if got := e.Reply(); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"Hello &lt;b&gt; &amp; co":                         "Hello <b> & co",
		"See <https://example.com/a?b=1&amp;c=2|the docs>": "See the docs (https://example.com/a?b=1&c=2)",
		"<https://example.com>":                            "https://example.com",
		"<http://example.com|example.com>":                 "http://example.com",
		"Ask <@U123> or <@U456|grace>":                     "Ask @someone or @grace",
		"In <#C1|general> <!here>":                         "In #general @here",
		"Mail <mailto:a@b.se|a@b.se>":                      "Mail a@b.se",
		"unclosed < tag":                                   "unclosed < tag",
		"  trimmed  ":                                      "trimmed",
	} {
		if got := slack.PlainText(in); got != want {
			t.Errorf("PlainText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := slack.Escape("<!channel> & <b>"); got != "&lt;!channel&gt; &amp; &lt;b&gt;" {
		t.Errorf("Escape: %q", got)
	}
}
