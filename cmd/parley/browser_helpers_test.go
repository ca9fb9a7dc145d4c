package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests drive the real parley binary (built with -race, as the other end-to-end
// tests do) with headless Chromium through the DevTools protocol: every page, script, htmx
// swap, WebSocket and background job runs as it does for an agent. Each browser is its own
// Chromium process with its own profile, so two browsers are two agents with separate cookies.

const (
	ownerEmail    = "owner@example.com"
	ownerPassword = "correct-horse-battery"
	// waitLong bounds every wait for something to appear; live updates take well under a second
	// on a quiet machine, the margin is for the race detector and a busy CI runner.
	waitLong = 10 * time.Second
)

// chromiumPath finds Debian's chromium. Without it the browser tests skip locally but fail in CI,
// so a CI machine that lost its browser cannot silently skip them.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real server and browser")
	}
	candidates := []string{os.Getenv("PARLEY_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI must run the browser tests (apt-get install chromium)")
	}
	t.Skip("chromium is not installed; skipping the browser tests")
	return ""
}

// app is a running parley with an owner, an API token, a "Support" inbox and a custom channel
// connected to it, ready for customers to write in.
type app struct {
	t         *testing.T
	srv       *server
	env       []string
	token     string
	inboxID   int64
	channelID string
	accountID string
	owner     appUser
	idem      *atomic.Int64 // shared by the copies on returns
}

// on returns the app reporting failures to t, for use in a subtest.
func (a *app) on(t *testing.T) *app {
	c := *a
	c.t = t
	return &c
}

type appUser struct {
	ID       int64
	Name     string
	Email    string
	Password string
}

func startApp(t *testing.T, e engineEnv) *app {
	t.Helper()
	env := append([]string{"PARLEY_ADMIN_EMAIL=" + ownerEmail, "PARLEY_ADMIN_PASSWORD=" + ownerPassword}, e.env...)
	a := &app{t: t, env: env, idem: new(atomic.Int64)}
	a.srv = startServer(t, freeAddr(t), env)
	a.token = strings.TrimSpace(cli(t, env, "token", "create", "--email", ownerEmail, "--name", "browser-tests"))

	var me struct {
		ID   int64
		Name string
	}
	mustCall(t, "GET", a.srv.url("/api/v1/me"), a.token, nil, &me)
	// The owner gets a real name so pages and screenshots look like a team's.
	mustCall(t, "PATCH", a.srv.url(fmt.Sprintf("/api/v1/users/%d", me.ID)), a.token, map[string]any{"name": "Olivia Owner"}, nil)
	a.owner = appUser{ID: me.ID, Name: "Olivia Owner", Email: ownerEmail, Password: ownerPassword}

	var inbox struct{ ID int64 }
	mustCall(t, "POST", a.srv.url("/api/v1/inboxes"), a.token, map[string]any{"name": "Support", "access": "everyone"}, &inbox)
	a.inboxID = inbox.ID
	a.channelID, a.accountID = a.connectChannel("Acme SMS", inbox.ID, "business-1")
	return a
}

// connectChannel registers a custom channel and connects an account of it to the inbox.
func (a *app) connectChannel(name string, inboxID int64, business string) (channelID, accountID string) {
	a.t.Helper()
	var ch struct{ ID string }
	mustCall(a.t, "POST", a.srv.url("/api/v1/custom-channels"), a.token, map[string]any{
		"name": name,
		"capabilities": map[string]any{
			"deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID"},
			"threadingModel":          "INTEGRATION_THREAD_ID",
			"allowOutgoingMessages":   true,
		},
		// Nothing listens there: replies fail to deliver after retries, which is fine here.
		"webhookUrl": "http://127.0.0.1:9/unused",
	}, &ch)
	var acct struct{ ID string }
	mustCall(a.t, "POST", a.srv.url("/api/v1/custom-channels/"+ch.ID+"/channel-accounts"), a.token, map[string]any{
		"inboxId": fmt.Sprint(inboxID), "name": name + " line", "authorized": true,
		"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": business},
	}, &acct)
	return ch.ID, acct.ID
}

// createUser adds a user through the API and returns them with their password.
func (a *app) createUser(name, email, role string) appUser {
	a.t.Helper()
	u := appUser{Name: name, Email: email, Password: "a-long-password-" + strings.ToLower(strings.Fields(name)[0])}
	var out struct{ ID int64 }
	mustCall(a.t, "POST", a.srv.url("/api/v1/users"), a.token, map[string]any{
		"email": email, "name": name, "role": role, "password": u.Password,
	}, &out)
	u.ID = out.ID
	return u
}

// publish is a customer writing in on the app's channel: the integration publishes the message
// on thread. It returns the conversation's id.
func (a *app) publish(thread, customer, text string) int64 {
	a.t.Helper()
	return a.publishOn(a.channelID, a.accountID, "business-1", thread, customer, text)
}

func (a *app) publishOn(channelID, accountID, business, thread, customer, text string) int64 {
	a.t.Helper()
	idem := fmt.Sprintf("browser-%d", a.idem.Add(1))
	var out struct {
		ConversationsThreadID json.RawMessage `json:"conversationsThreadId"`
	}
	mustCall(a.t, "POST", a.srv.url("/api/v1/custom-channels/"+channelID+"/messages"), a.token, map[string]any{
		"channelAccountId":         accountID,
		"messageDirection":         "INCOMING",
		"integrationThreadId":      thread,
		"integrationIdempotencyId": idem,
		"text":                     text,
		"timestamp":                time.Now().UTC().Format(time.RFC3339Nano),
		"senders": []map[string]any{{"name": customer,
			"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "customer-" + thread}}},
		"recipients": []map[string]any{{"name": "Acme",
			"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": business}}},
		"attachments": []any{},
	}, &out)
	id, err := strconv.ParseInt(strings.Trim(string(out.ConversationsThreadID), `"`), 10, 64)
	if err != nil {
		a.t.Fatalf("publish: conversationsThreadId %s: %v", out.ConversationsThreadID, err)
	}
	return id
}

// patch changes a conversation through the API, as another client of the team would.
func (a *app) patch(conversationID int64, body map[string]any) {
	a.t.Helper()
	mustCall(a.t, "PATCH", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d", conversationID)), a.token, body, nil)
}

// browser is one headless Chromium with its own profile, showing one tab of the app.
type browser struct {
	t   *testing.T
	app *app
	*tab
}

// tab is the state a browser's copies share.
type tab struct {
	name string
	ctx  context.Context // the tab; actions derive their own deadlines from it

	mu       sync.Mutex
	problems []string
	allowed  []*regexp.Regexp
}

// Set PARLEY_BROWSER_DEBUG=1 to log every console message of every browser.

// on returns the browser reporting failures to t, for use in a subtest.
func (b *browser) on(t *testing.T) *browser {
	return &browser{t: t, app: b.app.on(t), tab: b.tab}
}

// watchProblems is installed in every document before the page's own scripts run. Content
// Security Policy violations are reported through console.error so they fail the test like any
// other error, whatever the browser's own log says.
const watchProblems = `document.addEventListener("securitypolicyviolation", (e) =>
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber));`

// newBrowser starts a browser for the app. Console errors, uncaught exceptions, failed
// resource loads and CSP violations fail the test when it ends, except those allowed with allow.
func (a *app) newBrowser(name string) *browser {
	t := a.t
	t.Helper()
	exe := chromiumPath(t)
	debug := os.Getenv("PARLEY_BROWSER_DEBUG") != ""
	profile, err := os.MkdirTemp("", "parley-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1366, 860),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{t: t, app: a, tab: &tab{name: name, ctx: ctx}}
	t.Cleanup(func() {
		b.mu.Lock()
		problems := b.problems
		b.mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser %s: %s", b.name, p)
		}
		cancelTab()
		cancelAlloc()
		os.RemoveAll(profile)
	})
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx (no deadline)
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			text := m.Text
			if m.URL != "" {
				text += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			if debug {
				t.Logf("browser %s console %s: %s", name, m.Type, text)
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			b.record(string(m.Type) + ": " + text)
		}
	}()
	err = chromedp.Do(start, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchProblems})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *tab) record(problem string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// htmx reports an aborted request (a newer search replaced it) as two console errors,
	// htmx:afterRequest then htmx:sendAbort. Nothing failed.
	if strings.HasPrefix(problem, "error: htmx:sendAbort") {
		if n := len(b.problems); n > 0 && strings.HasPrefix(b.problems[n-1], "error: htmx:afterRequest") {
			b.problems = b.problems[:n-1]
		}
		return
	}
	for _, re := range b.allowed {
		if re.MatchString(problem) {
			return
		}
	}
	b.problems = append(b.problems, problem)
}

// allow tolerates console errors matching pattern from now on (a test that kills the server
// expects the browser to say the connection failed).
func (b *browser) allow(pattern string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, regexp.MustCompile(pattern))
}

// do runs actions with a deadline.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLong)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser %s: %s: %v\n%s", b.name, what, err, b.snapshot())
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.app.srv.url(path)))
	b.waitJS("page loaded", `document.readyState === "complete"`)
}

// eval evaluates a JavaScript expression in the page. The page's CSP does not apply to it.
func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLong)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser %s: eval %s: %v", b.name, expr, err)
	}
	return v
}

// await evaluates a JavaScript expression that yields a promise and waits for it.
func (b *browser) await(expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLong)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](expr, chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatalf("browser %s: await %s: %v", b.name, expr, err)
	}
}

// waitJS polls expr until it is true. The polling runs from the test, not in the page, because
// the page's CSP forbids the eval a page-side poller needs.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	if err := b.pollJS(expr, waitLong); err != nil {
		b.t.Fatalf("browser %s: waiting for %s: %v\n%s", b.name, what, err, b.snapshot())
	}
}

func (b *browser) pollJS(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return nil
		}
		last = err
		if time.Now().After(deadline) {
			if last == nil {
				last = fmt.Errorf("still false after %s: %s", timeout, expr)
			}
			return last
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// jsq quotes a Go string for JavaScript.
func jsq(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitVisible waits for an element matching the CSS selector to be rendered.
func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.waitJS("visible "+sel, fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")`, jsq(sel)))
}

// waitHidden waits until no element matching the selector is rendered.
// waitSettled waits until the page has no htmx request under way (htmx marks a request's
// source with .htmx-request) at two looks a live update's batching apart: catching up after
// a reconnect refreshes several parts of the page, and one still on its way can land after
// the test has moved on (after a sign-out, say, answered by a redirect to the sign-in page).
func (b *browser) waitSettled() {
	b.t.Helper()
	idle := `!document.querySelector(".htmx-request")`
	for range 2 {
		b.waitJS("no request under way", idle)
		time.Sleep(300 * time.Millisecond)
	}
	b.waitJS("no request under way", idle)
}

func (b *browser) waitHidden(sel string) {
	b.t.Helper()
	b.waitJS("hidden "+sel, fmt.Sprintf(`![...document.querySelectorAll(%s)].some((e) => e.getClientRects().length > 0)`, jsq(sel)))
}

// waitText waits for an element matching sel whose text contains text.
func (b *browser) waitText(sel, text string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%q in %s", text, sel), textExpr(sel, text))
}

func textExpr(sel, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.textContent.includes(%s))`, jsq(sel), jsq(text))
}

// has reports whether an element matching sel exists now.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	return evalJS[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, jsq(sel)))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill replaces the value of a field by typing into it.
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	b.waitVisible(sel)
	// Empty the field first (chromedp.Clear fails on an empty textarea).
	evalJS[chromedp.Void](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); e.value = ""; })()`, jsq(sel)))
	if text != "" {
		b.do("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
	}
}

// key presses keys on whatever has focus, as a person would.
func (b *browser) key(keys string, mods ...chromedp.Modifier) {
	b.t.Helper()
	b.do("press "+strconv.Quote(keys), pressKeys(keys, mods...))
}

// pressKeys types keys as a keyboard does: one keyDown that carries the text, then keyUp (as
// Puppeteer does). chromedp.KeyEvent sends the text as a separate char event, which a page's
// preventDefault on keydown cannot stop, unlike a real keystroke; a shortcut that focuses a
// field would then see its key typed into it.
func pressKeys(keys string, mods ...chromedp.Modifier) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, r := range keys {
			var down, up *input.DispatchKeyEventParams
			text := ""
			for _, k := range kb.Encode(r) {
				switch k.Type {
				case input.DispatchKeyEventTypeKeyDown:
					down = k
				case input.DispatchKeyEventTypeKeyUp:
					up = k
				case input.DispatchKeyEventTypeChar:
					text = k.Text
				}
			}
			for _, m := range mods {
				down.Modifiers |= int64(m)
				up.Modifiers |= int64(m)
			}
			if text != "" && down.Modifiers&^int64(chromedp.ModifierShift) == 0 {
				down.Text, down.UnmodifiedText = text, text
			}
			for _, k := range []*input.DispatchKeyEventParams{down, up} {
				if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, *k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ctrlEnter presses Ctrl+Enter on the focused element.
func (b *browser) ctrlEnter() {
	b.t.Helper()
	b.key("\r", chromedp.ModifierCtrl)
}

// blurAll moves focus to the page so that single-key shortcuts apply.
func (b *browser) blurAll() {
	b.t.Helper()
	evalJS[chromedp.Void](b, `document.activeElement && document.activeElement.blur()`)
}

// signIn signs in through the real sign-in form and waits for the app.
func (b *browser) signIn(u appUser) {
	b.t.Helper()
	b.open("/login")
	b.fill(`input[name=email]`, u.Email)
	b.fill(`input[name=password]`, u.Password)
	b.click(`form[action="/login"] button[type=submit]`)
	b.waitJS("signed in as "+u.Email, fmt.Sprintf(`document.body && document.body.dataset.userId === %s`, jsq(strconv.FormatInt(u.ID, 10))))
	b.waitLive()
}

// waitLive waits for the page's realtime socket to be connected and caught up.
func (b *browser) waitLive() {
	b.t.Helper()
	b.waitJS("realtime connected", `document.body.dataset.live === "connected"`)
}

// mark sets a value on window that only survives as long as the document does: a reload loses
// it, which is how a test proves something happened without one.
func (b *browser) mark() {
	b.t.Helper()
	evalJS[chromedp.Void](b, `window.__parleyNoReload = true`)
}

func (b *browser) assertNotReloaded() {
	b.t.Helper()
	if !evalJS[bool](b, `window.__parleyNoReload === true`) {
		b.t.Fatalf("browser %s: the page was reloaded", b.name)
	}
}

// setDark emulates the OS colour scheme.
func (b *browser) setDark(dark bool) {
	b.t.Helper()
	v := "light"
	if dark {
		v = "dark"
	}
	b.do("prefers-color-scheme "+v, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
		})
		return err
	}))
}

// blockRealtime makes the browser refuse to open the realtime socket (or lets it again): a
// network that drops the connection while the rest of the page keeps working.
func (b *browser) blockRealtime(block bool) {
	b.t.Helper()
	var patterns []*network.BlockPattern
	if block {
		patterns = []*network.BlockPattern{{URLPattern: "*://*:*/api/v1/realtime*", Block: true}}
	}
	b.do("block realtime", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns})
		return err
	}))
}

// screenshot captures the viewport as PNG.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLong)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return buf
}

// snapshot is the page's address and the start of its main content, for failure messages.
func (b *browser) snapshot() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.querySelector("main") || document.body || document.documentElement).outerHTML.slice(0, 4000)`))
	if err != nil {
		return "(no snapshot: " + err.Error() + ")"
	}
	return "page: " + s
}

// waitJSFor is waitJS with a longer bound, for waits that include a reconnection's backoff.
func (b *browser) waitJSFor(what, expr string, timeout time.Duration) {
	b.t.Helper()
	if err := b.pollJS(expr, timeout); err != nil {
		b.t.Fatalf("browser %s: waiting for %s: %v\n%s", b.name, what, err, b.snapshot())
	}
}

// clickText clicks the visible button, link, menu item or option inside scope whose text
// contains text, as a person picks an entry from a menu.
func (b *browser) clickText(scope, text string) {
	b.t.Helper()
	find := fmt.Sprintf(`(() => {
		for (const e of document.querySelectorAll("[data-test-click]")) e.removeAttribute("data-test-click");
		const els = [...document.querySelectorAll(%s + " :is(button, a[href], [role=menuitem], [role=option], [role=menuitemradio], label)")]
			.filter((e) => e.getClientRects().length > 0 && e.textContent.includes(%s));
		if (!els.length) return false;
		// A menu that has just opened may still be moving into place: click only once the
		// element stands where it stood at the previous look.
		const el = els[els.length - 1], r = el.getBoundingClientRect(), at = r.left + "," + r.top;
		const still = el.dataset.testAt === at;
		el.dataset.testAt = at;
		if (!still) return false;
		el.setAttribute("data-test-click", "");
		return true; })()`, jsq(scope), jsq(text))
	b.waitJS(fmt.Sprintf("%q to click in %s", text, scope), find)
	b.do("click "+text, chromedp.Click(chromedp.CSS("[data-test-click]"), chromedp.NodeVisible))
}

// setSelect chooses an option of a select element and tells the page, as choosing one does.
func setSelect(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%s);
		s.value = %s; s.dispatchEvent(new Event("input", {bubbles: true})); s.dispatchEvent(new Event("change", {bubbles: true})); })()`, jsq(sel), jsq(value)))
}

// conversationStatus reads a conversation's status through the API.
func (a *app) conversationStatus(id int64) string {
	a.t.Helper()
	var c struct{ Status string }
	mustCall(a.t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d", id)), a.token, nil, &c)
	return c.Status
}

// viewport sets the size of the page, as a window (or a phone) of that size shows it.
func (b *browser) viewport(width, height int64) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if width < 600 {
		opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	} else {
		opts = append(opts, chromedp.EmulateScale(1))
	}
	b.do("viewport", chromedp.EmulateViewport(width, height, opts...))
}
