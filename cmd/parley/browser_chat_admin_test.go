package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Settings → Live chat in a real browser, as a site owner follows it: create a chat channel for
// a site, copy its snippet, see the identity secret, build a chatflow with targeting (a rule
// added and removed, an exclusion on a query parameter), business hours with a split Saturday
// and a holiday, and explicit consent — first refused for its missing text, shown next to the
// field — then save it, turn it off and on, and open the preview page, where the widget loads on
// Parley's own origin. Screenshots go to PARLEY_SCREENSHOTS when set:
//
//	PARLEY_SCREENSHOTS=$PWD/docs/screenshots go test -run TestBrowserChatAdmin ./cmd/parley/
func TestBrowserChatAdmin(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	b := a.newBrowser("owner")
	b.viewport(1440, 1000)
	b.signIn(a.owner)

	b.open("/settings/chat")
	b.fill(`#chat-new input[name="name"]`, "Website chat")
	b.fill(`#chat-new textarea[name="allowed_origins"]`, "https://www.example.com")
	b.click(`#chat-new button[type="submit"]`)
	b.waitVisible(`#chat-snippet`)
	b.waitText(`#toasts`, "Chat channel created")
	channelID := evalJS[string](b, `location.pathname.split("/")[3]`)
	snippet := evalJS[string](b, `document.querySelector("#chat-snippet").value`)
	if !strings.HasPrefix(snippet, `<script src="`+a.srv.url("/widget/")) || !strings.HasSuffix(snippet, `.js" async></script>`) {
		t.Fatalf("snippet %q", snippet)
	}

	// Copy: the clipboard, or where it is refused the snippet selected; either way it says so.
	b.click(`[data-chat-copy="#chat-snippet"]`)
	b.waitJS("copy confirmed", `/Copied|Selected/.test(document.querySelector("#chat-install .chat-copy__status").textContent)`)

	// The identity secret shows only when asked for.
	if b.has(`#chat-secret-value`) {
		t.Fatal("the identity secret is shown before it was asked for")
	}
	b.click(`#chat-secret a`)
	b.waitVisible(`#chat-secret-value`)
	if n := len(evalJS[string](b, `document.querySelector("#chat-secret-value").value`)); n < 20 {
		t.Fatalf("identity secret of %d characters", n)
	}

	// A new chatflow.
	b.click(`#chat-flows a[href$="/flows/new"]`)
	b.waitVisible(`#chatflow-form`)
	b.fill(`#chatflow-form input[name="name"]`, "Preview visitors")
	b.click(`#flow-basics input[name="enabled"]`)

	// Targeting: a group whose first rule is "page URL contains /preview"; a second rule on the
	// visitor gets the visitor's operators and no value, and goes again.
	groups := `#flow-targeting .chat-groups[data-list="groups"]`
	b.click(groups + ` > [data-chat-action="add_group"]`)
	b.fill(`[name="targeting.groups[0].rules[0].value"]`, "/preview")
	b.click(groups + ` [data-group] > [data-chat-action="add_rule"]`)
	b.waitVisible(`[name="targeting.groups[0].rules[1].field"]`)
	b.do("rule on the visitor", setSelect(`[name="targeting.groups[0].rules[1].field"]`, "visitor"))
	if ops := evalJS[[]string](b, `[...document.querySelector('[name="targeting.groups[0].rules[1].operator"]').options].map((o) => o.value)`); !slices.Equal(ops, []string{"known", "unknown"}) {
		t.Fatalf("a visitor rule offers %v", ops)
	}
	b.waitHidden(`[name="targeting.groups[0].rules[1].value"]`)
	b.click(groups + ` [data-rule]:nth-child(2) [data-chat-action="remove_rule"]`)
	b.waitJS("rule removed", `!document.querySelector('[name="targeting.groups[0].rules[1].field"]')`)
	b.waitJS("focus on the group's add button", `document.activeElement.matches('[data-chat-action="add_rule"]')`)

	// An exclusion: when the utm_source parameter is present.
	excl := `#flow-targeting .chat-groups[data-list="exclusions"]`
	b.click(excl + ` > [data-chat-action="add_group"]`)
	b.do("rule on a parameter", setSelect(`[name="targeting.exclusions[0].rules[0].field"]`, "query_param"))
	b.fill(`[name="targeting.exclusions[0].rules[0].name"]`, "utm_source")
	b.do("parameter present", setSelect(`[name="targeting.exclusions[0].rules[0].operator"]`, "exists"))
	b.waitHidden(`[name="targeting.exclusions[0].rules[0].value"]`)

	b.fill(`textarea[name="display.welcome_message"]`, "Hi! Questions about the preview?")

	// Business hours: shown once chosen; a split Saturday and a holiday.
	if b.has(`#flow-hours:not([hidden])`) {
		t.Fatal("business hours shown before they were chosen")
	}
	b.click(`input[name="availability.mode"][value="business_hours"]`)
	b.waitVisible(`#flow-hours`)
	b.click(`tbody[data-day="sat"] [data-chat-action="add_shift"]`)
	b.waitJS("second Saturday row", `document.querySelectorAll('tbody[data-day="sat"] tr[data-shift]').length === 2`)
	evalJS[chromedp.Void](b, `(() => {
		const s = document.querySelectorAll('[name="availability.business_hours.days.sat.start"]');
		const e = document.querySelectorAll('[name="availability.business_hours.days.sat.end"]');
		s[0].value = "10:00"; e[0].value = "12:00"; s[1].value = "13:00"; e[1].value = "15:00"; })()`)
	b.fill(`textarea[name="availability.business_hours.holidays"]`, "2030-12-24")

	// Explicit consent without its text is refused, next to the field.
	if b.has(`textarea[name="consent.text"]:not([hidden])`) && evalJS[bool](b, `!!document.querySelector('textarea[name="consent.text"]').offsetParent`) {
		t.Fatal("consent text shown while consent is off")
	}
	b.click(`input[name="consent.mode"][value="explicit"]`)
	b.waitVisible(`textarea[name="consent.text"]`)
	b.allow(`status of 422`)
	b.click(`.chatflow-actions button[type="submit"]`)
	b.waitText(`#err-consent-text`, "Write the text visitors agree to.")
	b.waitText(`#chatflow-problems`, "fix the field marked below")
	// What was typed is all still there.
	if v := evalJS[string](b, `document.querySelector('[name="targeting.exclusions[0].rules[0].name"]').value`); v != "utm_source" {
		t.Fatalf("exclusion parameter after the refused save: %q", v)
	}
	b.fill(`textarea[name="consent.text"]`, "We keep this chat to answer you.")
	b.fill(`input[name="consent.privacy_url"]`, "https://www.example.com/privacy")

	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shoot := func(name string) {
		t.Helper()
		b.blurAll()
		b.waitJS("fonts", `document.fonts.status === "loaded"`)
		if err := os.WriteFile(filepath.Join(dir, name+".png"), b.screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
		b.setDark(true)
		if err := os.WriteFile(filepath.Join(dir, name+"-dark.png"), b.screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
		b.setDark(false)
	}
	evalJS[chromedp.Void](b, `window.scrollTo(0, document.querySelector("#flow-targeting").getBoundingClientRect().top + window.scrollY - 16)`)
	shoot("chat-flow-editor")

	b.click(`.chatflow-actions button[type="submit"]`)
	b.waitText(`#toasts`, "Chatflow created")
	b.waitText(`#chat-flows`, "Preview visitors")
	b.waitText(`#chat-flows .chat-flows__targeting`, "Page URL contains /preview; not when Query parameter utm_source is present")

	// The stored flow, through the API.
	var list struct {
		Data []struct {
			Name      string
			Enabled   bool
			Targeting struct {
				Groups, Exclusions []struct{ Rules []map[string]string }
			}
			Availability struct {
				Mode          string
				BusinessHours struct {
					Days     map[string][]map[string]string
					Holidays []string
				} `json:"business_hours"`
			}
			Consent struct{ Mode, Text string }
		}
	}
	mustCall(t, "GET", a.srv.url("/api/v1/channels/"+channelID+"/chatflows"), a.token, nil, &list)
	flows := list.Data
	if len(flows) != 1 {
		t.Fatalf("%d flows", len(flows))
	}
	f := flows[0]
	if f.Name != "Preview visitors" || !f.Enabled || len(f.Targeting.Groups) != 1 || f.Targeting.Groups[0].Rules[0]["value"] != "/preview" ||
		len(f.Targeting.Exclusions) != 1 || f.Targeting.Exclusions[0].Rules[0]["name"] != "utm_source" ||
		f.Availability.Mode != "business_hours" || len(f.Availability.BusinessHours.Days["sat"]) != 2 ||
		!slices.Equal(f.Availability.BusinessHours.Holidays, []string{"2030-12-24"}) || f.Consent.Mode != "explicit" {
		t.Fatalf("stored flow: %+v", f)
	}

	// The channel page, for the screenshot: tall enough to show the chatflows, without the toast.
	b.viewport(1440, 1560)
	evalJS[chromedp.Void](b, `document.querySelector("#toasts").replaceChildren(); window.scrollTo(0, 0)`)
	shoot("chat-settings")
	b.viewport(1440, 1000)

	// Off and on again with the switch.
	b.click(`#chat-flows .chat-toggle`)
	b.waitJS("turned off", `document.querySelector("#chat-flows .chat-toggle").getAttribute("aria-checked") === "false"`)
	b.click(`#chat-flows .chat-toggle`)
	b.waitJS("turned on", `document.querySelector("#chat-flows .chat-toggle").getAttribute("aria-checked") === "true"`)

	// The preview: the widget loads on Parley's own origin, which the channel does not list, and
	// the flow targeting /preview shows its launcher.
	b.open(fmt.Sprintf("/settings/chat/%s/preview", channelID))
	b.waitJS("widget loaded", `window.Parley && window.Parley.loaded === true`)
	b.waitJS("launcher shown", `(() => { const h = document.querySelector("parley-chat"); return !!h && !h.hidden && h.getClientRects().length > 0; })()`)
}
