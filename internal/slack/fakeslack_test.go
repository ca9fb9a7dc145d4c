package slack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fakeSlack is a local Web API that checks requests as Slack's does: the method, a Bearer bot
// token it issued, the content type each method reads, and each method's required arguments.
// It answers like Slack — HTTP 200 with {"ok":false,"error":…} for a refused call, 429 with
// Retry-After when told to rate limit — and remembers what was posted.
type fakeSlack struct {
	t     *testing.T
	srv   *httptest.Server
	token string

	mu sync.Mutex
	// users are the workspace's people: Slack user id → email ("" hides it, as without the
	// users:read.email scope).
	users map[string]string
	// limit makes the next n calls answer 429 with Retry-After retryAfter.
	limit      int
	retryAfter string
	// fail makes every call of a method answer {"ok":false,"error":fail[method]}.
	fail      map[string]string
	posts     []fakePost
	ephemeral []fakePost
	calls     map[string]int
	nextTS    int
}

type fakePost struct {
	Channel  string
	Text     string
	ThreadTS string
	User     string
	TS       string
	Blocks   json.RawMessage
}

const (
	fakeToken  = "xoxb-1111-2222-abcdefghijkl"
	fakeTeam   = "T0PARLEY"
	fakeBotID  = "U0PARLEYBOT"
	fakeChanID = "C0MIRROR1"
)

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{t: t, token: fakeToken, users: map[string]string{}, fail: map[string]string{}, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) refuse(w http.ResponseWriter, code string) {
	f.answer(w, map[string]any{"ok": false, "error": code})
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	if r.Method != http.MethodPost {
		f.t.Errorf("slack %s: method %s, want POST", method, r.Method)
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if f.limit > 0 {
		f.limit--
		w.Header().Set("Retry-After", f.retryAfter)
		http.Error(w, "rate limited", http.StatusTooManyRequests)
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") {
		f.refuse(w, "not_authed")
		return
	}
	if strings.TrimPrefix(auth, "Bearer ") != f.token {
		f.refuse(w, "invalid_auth")
		return
	}
	if code := f.fail[method]; code != "" {
		f.refuse(w, code)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	raw, _ := io.ReadAll(r.Body)
	args := map[string]any{}
	switch ct {
	case "application/json":
		if err := json.Unmarshal(raw, &args); err != nil {
			f.refuse(w, "invalid_json")
			return
		}
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(raw))
		if err != nil {
			f.refuse(w, "invalid_form_data")
			return
		}
		for k := range q {
			args[k] = q.Get(k)
		}
	default:
		f.t.Errorf("slack %s: content type %q", method, r.Header.Get("Content-Type"))
		f.refuse(w, "invalid_form_data")
		return
	}
	str := func(k string) string { s, _ := args[k].(string); return s }
	switch method {
	case "auth.test":
		f.answer(w, map[string]any{"ok": true, "url": "https://parley-test.slack.com/", "team": "Parley Test",
			"user": "parley", "team_id": fakeTeam, "user_id": fakeBotID, "bot_id": "B0PARLEY"})
	case "chat.postMessage":
		if ct != "application/json" {
			f.t.Errorf("chat.postMessage sent as %s; Parley sends JSON", ct)
		}
		if str("channel") == "" {
			f.refuse(w, "channel_not_found")
			return
		}
		if str("text") == "" && args["blocks"] == nil {
			f.refuse(w, "no_text")
			return
		}
		if str("channel") != fakeChanID {
			f.refuse(w, "channel_not_found")
			return
		}
		if tts := str("thread_ts"); tts != "" && !f.hasPost(tts) {
			f.refuse(w, "thread_not_found")
			return
		}
		f.nextTS++
		ts := fmt.Sprintf("1700000000.%06d", f.nextTS)
		var blocks json.RawMessage
		if b, ok := args["blocks"]; ok {
			blocks, _ = json.Marshal(b)
		}
		f.posts = append(f.posts, fakePost{Channel: str("channel"), Text: str("text"), ThreadTS: str("thread_ts"), TS: ts, Blocks: blocks})
		f.answer(w, map[string]any{"ok": true, "channel": str("channel"), "ts": ts,
			"message": map[string]any{"text": str("text"), "ts": ts}})
	case "chat.postEphemeral":
		if str("channel") == "" || str("user") == "" || str("text") == "" {
			f.refuse(w, "invalid_arguments")
			return
		}
		f.ephemeral = append(f.ephemeral, fakePost{Channel: str("channel"), Text: str("text"), ThreadTS: str("thread_ts"), User: str("user")})
		f.answer(w, map[string]any{"ok": true, "message_ts": "1700000000.999999"})
	case "users.info":
		if ct != "application/x-www-form-urlencoded" {
			// Slack reads this method's arguments from the query or a form only.
			f.refuse(w, "invalid_arguments")
			return
		}
		id := str("user")
		email, ok := f.users[id]
		if !ok {
			f.refuse(w, "user_not_found")
			return
		}
		profile := map[string]any{"real_name": "Slack " + id}
		if email != "" {
			profile["email"] = email
		}
		f.answer(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": strings.ToLower(id), "profile": profile}})
	default:
		f.refuse(w, "unknown_method")
	}
}

func (f *fakeSlack) hasPost(ts string) bool {
	for _, p := range f.posts {
		if p.TS == ts {
			return true
		}
	}
	return false
}

func (f *fakeSlack) Posts() []fakePost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePost(nil), f.posts...)
}

func (f *fakeSlack) Ephemeral() []fakePost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePost(nil), f.ephemeral...)
}

func (f *fakeSlack) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeSlack) set(fn func(f *fakeSlack)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
