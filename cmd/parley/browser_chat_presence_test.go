package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestBrowserChatVisitorTyping: an agent with a live chat conversation open sees "The visitor is
// typing…" in the header's live region while the visitor (a widget socket driven from Go) types,
// and it fades 5 s after the last typing frame; the contact sidebar shows the visitor's page,
// browser and local time.
func TestBrowserChatVisitorTyping(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	const site = "https://shop.example"
	var ch struct {
		Chat struct {
			PublicID string `json:"public_id"`
		}
	}
	mustCall(t, "POST", a.srv.url("/api/v1/channels"), a.token, map[string]any{"kind": "chat", "inbox_id": a.inboxID,
		"name": "Website", "allowed_origins": []string{site}}, &ch)

	// The visitor: a session from the shop's pricing page, then their widget socket.
	body, _ := json.Marshal(map[string]any{"page_url": site + "/pricing", "title": "Pricing", "language": "nb-NO",
		"time_zone": "America/New_York"})
	req, _ := http.NewRequest("POST", a.srv.url("/widget/v1/"+ch.Chat.PublicID+"/session"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", site)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&sess); err != nil || res.StatusCode != 200 {
		t.Fatalf("session: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(a.srv.url("/widget/v1/"+ch.Chat.PublicID+"/ws?token="+sess.Token), "http", "ws", 1),
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {site}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	write := func(v any) {
		t.Helper()
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	// Frames the visitor gets are not this test's business; keep the socket read.
	go func() {
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	write(map[string]any{"type": "message", "client_id": "c-1", "text": "Do you have a student discount?"})

	var list struct {
		Data []struct{ ID int64 }
	}
	deadline := time.Now().Add(waitLong)
	for len(list.Data) == 0 && time.Now().Before(deadline) {
		mustCall(t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations?inbox_id=%d", a.inboxID)), a.token, nil, &list)
		time.Sleep(50 * time.Millisecond)
	}
	if len(list.Data) == 0 {
		t.Fatal("the visitor's conversation did not appear")
	}
	conv := list.Data[0].ID

	b := a.newBrowser("agent")
	b.signIn(a.owner)
	b.open(fmt.Sprintf("/inbox/%d", conv))
	b.waitLive()
	b.waitVisible("#visitor-context")
	b.waitText("#visitor-current-page", "Pricing")
	b.waitText("#visitor-browser", "Firefox 128 · Linux")
	b.waitText("#visitor-language", "Norwegian Bokmål (Norway)")
	b.waitText("#visitor-local-time", "(America/New_York)")

	// The agent's page has opened the conversation's view on the realtime socket by now; the
	// visitor types until the header says so (the first frame may beat the view).
	said := `document.getElementById("presence").textContent === "The visitor is typing…"`
	for i := 0; ; i++ {
		write(map[string]any{"type": "typing"})
		if b.pollJS(said, time.Second) == nil {
			break
		}
		if i == 9 {
			t.Fatalf("the header never said the visitor is typing: %q", evalJS[string](b, `document.getElementById("presence").textContent`))
		}
	}
	if !evalJS[bool](b, `document.getElementById("presence").hasAttribute("data-typing")`) {
		t.Fatal("the live region is not marked as typing")
	}
	// It fades 5 s after the last frame, not before.
	stopped := time.Now()
	b.waitJSFor("typing notice faded", `document.getElementById("presence").textContent === ""`, waitLong)
	if d := time.Since(stopped); d < 3*time.Second {
		t.Fatalf("the typing notice faded after %v, want about 5 s", d)
	}
}
