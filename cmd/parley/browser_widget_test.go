package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The chat widget (CHAT-1, 2, 7) in a real browser: a customer's site on its own origin, with
// CSS that would break any widget not isolated in a shadow root, embeds the snippet; a visitor
// chats with an agent who answers through the API.
//
// The widget's shadow root is closed, so neither the page nor document.querySelector reaches
// it; the test reaches it as DevTools does (DOM.describeNode with pierce), which a page cannot.

// hostilePage is a site whose CSS hides and blanks everything it can, the widget's host
// element included.
const hostilePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
* { color: transparent !important; font-size: 2px !important; visibility: hidden; box-sizing: content-box !important; }
div, span, button, textarea, section, ol, li, form { display: none !important; }
parley-chat, body > :last-child { display: none !important; opacity: 0 !important; position: static !important; }
h1, p { visibility: visible; }
</style></head><body><h1>Acme shop</h1><p>Things for sale.</p>%s</body></html>`

// widgetJS calls fn (a function declaration) with the widget's shadow root as this and returns
// its JSON result.
func widgetJS[T any](b *browser, fn string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Action[T](func(ctx context.Context, tg *chromedp.Target) (T, error) {
		var zero T
		host, err := chromedp.Evaluate[*runtime.RemoteObject](`document.querySelector("parley-chat")`)(ctx, tg)
		if err != nil {
			return zero, err
		}
		if host.ObjectID == "" {
			return zero, errors.New("no parley-chat element")
		}
		desc, err := cdp.Call(ctx, tg, dom.DescribeNode, dom.DescribeNodeParams{ObjectID: host.ObjectID, Depth: ptrTo[int64](1), Pierce: ptrTo(true)})
		if err != nil {
			return zero, err
		}
		if len(desc.Node.ShadowRoots) == 0 {
			return zero, errors.New("parley-chat has no shadow root")
		}
		sr, err := cdp.Call(ctx, tg, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: desc.Node.ShadowRoots[0].BackendNodeID})
		if err != nil {
			return zero, err
		}
		res, err := cdp.Call(ctx, tg, runtime.CallFunctionOn, runtime.CallFunctionOnParams{FunctionDeclaration: fn,
			ObjectID: sr.Object.ObjectID, ReturnByValue: ptrTo(true)})
		if err != nil {
			return zero, err
		}
		if res.ExceptionDetails != nil {
			return zero, fmt.Errorf("%s: %s", res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
		}
		var out T
		if err := json.Unmarshal([]byte(res.Result.Value), &out); err != nil {
			return zero, fmt.Errorf("result %s: %w", res.Result.Value, err)
		}
		return out, nil
	}))
}

func ptrTo[T any](v T) *T { return &v }

// waitWidget polls a boolean function of the shadow root.
func (b *browser) waitWidget(what, fn string) {
	b.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		ok, err := widgetJS[bool](b, fn)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser %s: waiting in the widget for %s: %v", b.name, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// widgetText is a shadow-root function true when an element matching sel contains text.
func widgetText(sel, text string) string {
	return fmt.Sprintf(`function () { return [...this.querySelectorAll(%s)].some((e) => e.textContent.includes(%s)); }`, jsq(sel), jsq(text))
}

// clickWidget clicks the middle of an element of the widget with the mouse, as a visitor does:
// it fails when the page's CSS hid or covered it.
func (b *browser) clickWidget(sel string) {
	b.t.Helper()
	b.waitWidget("visible "+sel, fmt.Sprintf(`function () { const e = this.querySelector(%s);
		if (!e) return false; const r = e.getBoundingClientRect();
		return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility === "visible"; }`, jsq(sel)))
	pt, err := widgetJS[[2]float64](b, fmt.Sprintf(`function () { const r = this.querySelector(%s).getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; }`, jsq(sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	// What the mouse hits there must be the widget itself (the page sees only its host).
	if !evalJS[bool](b, fmt.Sprintf(`document.elementFromPoint(%f, %f) === document.querySelector("parley-chat")`, pt[0], pt[1])) {
		b.t.Fatalf("browser %s: something covers the widget's %s", b.name, sel)
	}
	b.do("click "+sel, chromedp.MouseClickXY(pt[0], pt[1]))
}

func TestBrowserChatWidget(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))

	// The customer's site, on its own origin.
	var snippet string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, hostilePage, snippet)
	}))
	t.Cleanup(site.Close)

	var ch struct {
		ID           int64
		EmbedSnippet string `json:"embed_snippet"`
		Chat         struct {
			PublicID string `json:"public_id"`
		}
	}
	mustCall(t, "POST", a.srv.url("/api/v1/channels"), a.token, map[string]any{"kind": "chat", "inbox_id": a.inboxID,
		"name": "Website", "allowed_origins": []string{site.URL},
		"appearance": map[string]any{"accent_color": "#ff0066", "position": "left"}}, &ch)
	script := "/widget/" + ch.Chat.PublicID + ".js"
	if !strings.HasSuffix(ch.EmbedSnippet, script+`" async></script>`) {
		t.Fatalf("embed snippet %s", ch.EmbedSnippet)
	}
	// The snippet as the API gives it, on this test server's address.
	snippet = `<script src="` + a.srv.url(script) + `" async></script>`

	b := a.newBrowser("visitor")
	visit := func() {
		b.t.Helper()
		b.do("open the site", chromedp.Navigate(site.URL+"/products?x=1"))
		b.waitJS("widget loaded", `window.Parley && window.Parley.loaded === true`)
		b.waitWidget("launcher", `function () { const r = this.querySelector(".launch").getBoundingClientRect(); return r.width >= 40; }`)
	}
	visit()

	// The hostile CSS changed nothing: the launcher is on the left, in the accent colour.
	style, err := widgetJS[map[string]any](b, `function () { const l = this.querySelector(".launch"), r = l.getBoundingClientRect();
		return {left: r.left, right: innerWidth - r.right, bg: getComputedStyle(l).backgroundColor}; }`)
	if err != nil {
		t.Fatal(err)
	}
	if style["bg"] != "rgb(255, 0, 102)" || style["left"].(float64) > 40 || style["right"].(float64) < 100 {
		t.Fatalf("launcher %v", style)
	}

	// The page cannot reach into the widget: the root is closed and the API holds no token.
	token := evalJS[string](b, fmt.Sprintf(`localStorage.getItem(%s) || ""`, jsq("parley:"+ch.Chat.PublicID+":token")))
	if len(token) < 20 {
		t.Fatalf("visitor token %q", token)
	}
	if evalJS[bool](b, fmt.Sprintf(`document.querySelector("parley-chat").shadowRoot !== null || JSON.stringify(Object.entries(window.Parley)).includes(%s)`, jsq(token))) {
		t.Fatal("the widget's root or token is reachable from the page's globals")
	}
	evalJS[chromedp.Void](b, `window.__got = []; window.Parley.on("message", (m) => window.__got.push(m.from + ":" + m.text))`)

	// Open with the mouse: the message field has focus.
	b.clickWidget(".launch")
	b.waitWidget("panel open with focus", `function () { return !this.querySelector(".panel").hidden && this.activeElement === this.querySelector("textarea"); }`)
	if txt, _ := widgetJS[string](b, `function () { return getComputedStyle(this.querySelector(".send")).color; }`); txt != "rgb(255, 255, 255)" {
		t.Fatalf("send button text colour %s", txt)
	}

	// Enter sends; the message shows at once, pending until the server acknowledges it.
	b.key("Do you ship to Norway?")
	b.key("\r")
	b.waitWidget("own message acknowledged", `function () { return [...this.querySelectorAll(".msg.me[data-id]")].some((e) =>
		!e.classList.contains("pending") && e.textContent.includes("Do you ship to Norway?")); }`)
	b.waitJS("on('message') for the visitor's message", `window.__got.includes("visitor:Do you ship to Norway?")`)

	// It is stored in a conversation of the chat channel.
	var list struct {
		Data []struct{ ID int64 }
	}
	mustCall(t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations?channel_id=%d", ch.ID)), a.token, nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("conversations of the chat channel: %+v", list.Data)
	}
	conv := list.Data[0].ID
	var timeline struct {
		Data []struct {
			Kind    string
			Message *struct{ Text, Direction string }
		}
	}
	mustCall(t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d/timeline", conv)), a.token, nil, &timeline)
	stored := false
	for _, it := range timeline.Data {
		stored = stored || (it.Message != nil && it.Message.Direction == "inbound" && it.Message.Text == "Do you ship to Norway?")
	}
	if !stored {
		t.Fatalf("timeline %+v", timeline.Data)
	}

	// An agent answers through the API; the reply appears in the open widget.
	reply := func(text string) {
		mustCall(t, "POST", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d/messages", conv)), a.token, map[string]any{"text": text}, nil)
	}
	reply("Yes, we ship to all of Scandinavia.")
	b.waitWidget("agent reply", widgetText(".msg:not(.me)", "Yes, we ship to all of Scandinavia."))
	b.waitWidget("agent's first name", widgetText(".msg:not(.me) .who", "Olivia"))
	b.waitJS("on('message') for the agent's reply", `window.__got.includes("agent:Yes, we ship to all of Scandinavia.")`)

	// Esc closes and gives focus back to the launcher; a reply while closed shows an unread badge.
	b.key(kb.Escape)
	b.waitWidget("closed, focus on the launcher", `function () { return this.querySelector(".panel").hidden && this.activeElement === this.querySelector(".launch"); }`)
	reply("Delivery takes 3 days.")
	b.waitWidget("unread badge", `function () { const e = this.querySelector(".badge"); return !e.hidden && e.textContent === "1"; }`)
	b.key("\r") // Enter on the focused launcher opens it again
	b.waitWidget("open, badge cleared", `function () { return !this.querySelector(".panel").hidden && this.querySelector(".badge").hidden; }`)

	// A reload keeps the visitor and the conversation.
	visit()
	b.waitWidget("conversation after reload", widgetText(".msg.me", "Do you ship to Norway?"))
	b.waitWidget("replies after reload", widgetText(".msg:not(.me)", "Delivery takes 3 days."))
	if again := evalJS[string](b, fmt.Sprintf(`localStorage.getItem(%s)`, jsq("parley:"+ch.Chat.PublicID+":token"))); again != token {
		t.Fatal("the reload started a new visitor")
	}

	// The page's API, and the widget on a phone: open fills the screen.
	b.viewport(390, 780)
	evalJS[chromedp.Void](b, `window.Parley.close(); window.Parley.open()`)
	b.waitWidget("full-screen panel on a phone", `function () { const r = this.querySelector(".panel").getBoundingClientRect();
		return !this.querySelector(".panel").hidden && r.width === innerWidth && r.top === 0; }`)
	evalJS[chromedp.Void](b, `window.Parley.hide()`)
	b.waitJS("hidden", `getComputedStyle(document.querySelector("parley-chat")).display === "none"`)
	evalJS[chromedp.Void](b, `window.Parley.show()`)
	b.waitJS("shown", `getComputedStyle(document.querySelector("parley-chat")).display === "block"`)
}
