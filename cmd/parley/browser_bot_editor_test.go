package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The bot editor (CHAT-9) in a real browser: an admin creates a bot, adds a choice question
// and a branch on its answer, reorders steps with the keyboard and by drag and drop, sees a
// refused save's errors at the step they name, walks both paths in the widget preview, and
// saves a new version. The screenshot of the editor goes to PARLEY_SCREENSHOTS when set:
//
//	PARLEY_SCREENSHOTS=$PWD/docs/screenshots go test -run TestBrowserBotEditor ./cmd/parley/
func TestBrowserBotEditor(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	b := a.newBrowser("owner")
	b.viewport(1440, 1000)
	b.signIn(a.owner)

	b.open("/settings/bots")
	b.fill(`#bot-new-name`, "Lead router")
	b.click(`#bot-create`)
	b.waitText(`#toasts`, "Bot created.")
	b.waitVisible(`.bot-step[data-step-id="ask_email"]`)
	if b.has(`#bot-definition:not([hidden])`) && evalJS[bool](b, `document.querySelector("[data-bot-source]").hidden === false`) {
		t.Fatal("the JSON field is still shown beside the step cards")
	}
	// The preview starts the starter bot: its greeting and its email question.
	b.waitText(`#bot-preview-log`, "Welcome")
	b.waitText(`#bot-preview-log`, "email address")

	steps := func() []string {
		return evalJS[[]string](b, `[...document.querySelectorAll(".bot-steps > .bot-step")].map((e) => e.dataset.stepId)`)
	}
	setSelect := func(sel, value string) {
		t.Helper()
		b.waitVisible(sel)
		evalJS[chromedp.Void](b, fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.focus(); s.value = %s;
			s.dispatchEvent(new Event("change", { bubbles: true })); })()`, jsq(sel), jsq(value)))
	}
	addStep := func(typ string) {
		t.Helper()
		n := len(steps())
		setSelect(`#bot-add-type`, typ)
		b.click(`#bot-add-step`)
		b.waitJS("step added", fmt.Sprintf(`document.querySelectorAll(".bots-steps > .bot-step, .bot-steps > .bot-step").length === %d`, n+1))
	}
	card := func(id string) string { return fmt.Sprintf(`.bot-step[data-step-id=%q]`, id) }

	// A choice question: its prompt and two quick replies.
	addStep("ask_question")
	q := card("question_1")
	b.waitJS("focus moves to the new step", `document.activeElement.closest(".bot-step")?.dataset.stepId === "question_1"`)
	b.fill(q+` [data-field="ask_question.prompt"] textarea`, "What can we help you with?")
	setSelect(q+` [data-field="ask_question.kind"] select`, "choice")
	b.fill(q+` .bot-choice:nth-child(1) input:nth-of-type(1)`, "Sales")
	b.fill(q+` .bot-choice:nth-child(1) input:nth-of-type(2)`, "sales")
	b.fill(q+` .bot-choice:nth-child(2) input:nth-of-type(1)`, "Support")

	// A branch on that answer: sales goes to the hand-off, anything else to an end step.
	addStep("end")
	b.fill(card("end_1")+` [data-field="end.message"] textarea`, "Our help centre has the answer: help.example.com")
	addStep("branch")
	br := card("branch_1")
	setSelect(br+` [data-field="branch.cases[0].conditions[0].name"] select`, "question_1")
	setSelect(br+` [data-field="branch.cases[0].conditions[0].value"] select`, "sales")
	setSelect(br+` [data-field="branch.cases[0].next"] select`, "handoff")
	setSelect(br+` [data-field="next"] select`, "end_1")
	if got := steps(); !slices.Equal(got, []string{"welcome", "ask_email", "handoff", "question_1", "end_1", "branch_1"}) {
		t.Fatalf("steps after adding: %v", got)
	}

	// Reorder with the keyboard: the question and the branch go up before the hand-off. Focus
	// stays on the moved step's button, so pressing again keeps moving it.
	b.do("focus question up", chromedp.Focus(chromedp.CSS(q+` [data-focus=up]`)))
	b.key("\r")
	b.waitJS("question moved", `document.querySelectorAll(".bot-step")[2].dataset.stepId === "question_1"`)
	if id := evalJS[string](b, `document.activeElement.closest(".bot-step")?.dataset.stepId + " " + document.activeElement.dataset.focus`); id != "question_1 up" {
		t.Fatalf("focus after moving: %q", id)
	}
	b.do("focus branch up", chromedp.Focus(chromedp.CSS(br+` [data-focus=up]`)))
	b.key("\r")
	b.key("\r")
	b.waitJS("branch moved", `document.querySelectorAll(".bot-step")[3].dataset.stepId === "branch_1"`)
	b.waitText(`[data-bot-announce]`, "Moved branch_1 to position 4 of 6")
	if got := steps(); !slices.Equal(got, []string{"welcome", "ask_email", "question_1", "branch_1", "handoff", "end_1"}) {
		t.Fatalf("steps after moving with the keyboard: %v", got)
	}
	// Drag and drop: the end step goes before the hand-off (dropped on the top half of it).
	evalJS[chromedp.Void](b, `(() => {
		const src = document.querySelector('.bot-step[data-step-id="end_1"]');
		const dst = document.querySelector('.bot-step[data-step-id="handoff"]');
		const dt = new DataTransfer();
		src.querySelector("[data-drag-handle]").dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
		src.dispatchEvent(new DragEvent("dragstart", { bubbles: true, dataTransfer: dt }));
		const r = dst.getBoundingClientRect();
		const at = { bubbles: true, cancelable: true, dataTransfer: dt, clientX: r.left + 20, clientY: r.top + 4 };
		dst.dispatchEvent(new DragEvent("dragover", at));
		dst.dispatchEvent(new DragEvent("drop", at));
	})()`)
	b.waitJS("end step dropped", `document.querySelectorAll(".bot-step")[4].dataset.stepId === "end_1"`)

	// The JSON the form posts follows: the question now continues to the branch.
	def := func() map[string]any {
		var d map[string]any
		if err := json.Unmarshal([]byte(evalJS[string](b, `document.querySelector("#bot-definition").value`)), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	next := func(d map[string]any) map[string]string {
		out := map[string]string{}
		for _, s := range d["steps"].([]any) {
			m := s.(map[string]any)
			n, _ := m["next"].(string)
			out[m["id"].(string)] = n
		}
		return out
	}
	if n := next(def()); n["ask_email"] != "question_1" || n["question_1"] != "branch_1" || n["branch_1"] != "end_1" || n["end_1"] != "" {
		t.Fatalf("next steps in the posted JSON: %v", n)
	}

	// Renaming a step renames every reference to it: the branch's condition follows the question.
	b.fill(card("question_1")+` .bot-step__id`, "topic")
	b.key("\t")
	b.waitVisible(card("topic"))
	q = card("topic")
	if n := def(); !strings.Contains(fmt.Sprint(n["steps"]), "name:topic") || next(n)["ask_email"] != "topic" {
		t.Fatalf("after renaming the question: %v", n["steps"])
	}
	if b.has(card("question_1")) {
		t.Fatal("the old id is still shown")
	}

	// The preview walks the bot: a wrong email is asked again, Sales goes to a teammate. (It
	// restarts by itself a moment after each edit; the walk starts once it has.)
	b.waitJS("preview settled", `!("pending" in document.querySelector("[data-bot-preview]").dataset)`)
	b.click(`#bot-preview-restart`)
	b.waitText(`#bot-preview-log`, "email address")
	b.fill(`#bot-preview-input`, "not-an-email")
	b.click(`#bot-preview-send`)
	b.waitText(`#bot-preview-log`, "doesn't look like an email address")
	b.fill(`#bot-preview-input`, "ada@example.com")
	b.key("\r")
	b.waitText(`#bot-preview-log`, "What can we help you with?")
	b.waitText(`[data-preview-quick] button`, "Support")
	b.click(`[data-preview-quick] button:first-child`)
	b.waitText(`#bot-preview-log .bp-note`, "goes to a teammate")
	b.click(`#bot-preview-restart`)
	b.fill(`#bot-preview-input`, "ada@example.com")
	b.key("\r")
	b.waitText(`[data-preview-quick] button`, "Support")
	b.click(`[data-preview-quick] button:last-child`)
	b.waitText(`#bot-preview-log`, "Our help centre has the answer")
	b.waitText(`#bot-preview-log .bp-note`, "The bot has finished.")

	// A refused save: the question's prompt is emptied; the page comes back with the error at
	// that step's prompt, and nothing else lost.
	evalJS[chromedp.Void](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = "";
		e.dispatchEvent(new Event("input", { bubbles: true })); })()`, jsq(q+` [data-field="ask_question.prompt"] textarea`)))
	b.allow(`422 \(Unprocessable Entity\)`) // the refused save's page answers 422
	b.click(`#bot-save`)
	b.waitVisible(`#bot-errors`)
	b.waitVisible(q + `.bot-step--invalid [data-field="ask_question.prompt"] .field__error`)
	b.waitText(q+` [data-field="ask_question.prompt"] .field__error`, "is required")
	if got := steps(); !slices.Equal(got, []string{"welcome", "ask_email", "topic", "branch_1", "end_1", "handoff"}) {
		t.Fatalf("steps after a refused save: %v", got)
	}
	if !b.has(q + ` [data-field="ask_question.prompt"] textarea[aria-invalid="true"]`) {
		t.Fatal("the refused field is not marked invalid")
	}
	b.fill(q+` [data-field="ask_question.prompt"] textarea`, "What can we help you with?")
	if b.has(q + ` [data-field="ask_question.prompt"] .field__error`) {
		t.Fatal("the error stays after the field was fixed")
	}
	b.click(`#bot-save`)
	b.waitText(`#toasts`, "Bot saved as a new version.")
	b.waitText(`#bot-version`, "version 2 of 2")
	b.waitVisible(card("branch_1"))
	if got := steps(); !slices.Equal(got, []string{"welcome", "ask_email", "topic", "branch_1", "end_1", "handoff"}) {
		t.Fatalf("steps after saving: %v", got)
	}
	if n := next(def()); n["topic"] != "branch_1" || n["branch_1"] != "end_1" {
		t.Fatalf("saved next steps: %v", n)
	}
	// The saved bot as the API has it: version 2 with the branch.
	var saved struct {
		Version    int64
		Definition struct {
			Steps []struct {
				ID     string
				Branch *struct {
					Cases []struct{ Next string }
				}
			}
		}
	}
	var list struct{ Data []struct{ ID int64 } }
	mustCall(t, "GET", a.srv.url("/api/v1/bots"), a.token, nil, &list)
	bots := list.Data
	if len(bots) != 1 {
		t.Fatalf("bots: %+v", list)
	}
	mustCall(t, "GET", a.srv.url(fmt.Sprintf("/api/v1/bots/%d", bots[0].ID)), a.token, nil, &saved)
	if saved.Version != 2 || len(saved.Definition.Steps) != 6 || saved.Definition.Steps[3].Branch == nil ||
		saved.Definition.Steps[3].Branch.Cases[0].Next != "handoff" {
		t.Fatalf("saved bot: %+v", saved)
	}

	// Version 1 is still there to look at.
	b.click(`#bot-versions a[href$="?version=1"]`)
	b.waitVisible(`#bot-old-version`)
	b.waitVisible(card("welcome"))
	if got := steps(); !slices.Equal(got, []string{"welcome", "ask_email", "handoff"}) {
		t.Fatalf("version 1's steps: %v", got)
	}

	// The screenshot: the saved bot with the preview at its question.
	b.open(fmt.Sprintf("/settings/bots/%d", bots[0].ID))
	b.waitVisible(card("branch_1"))
	b.waitText(`#bot-preview-log`, "email address")
	b.fill(`#bot-preview-input`, "ada@example.com")
	b.key("\r")
	b.waitText(`[data-preview-quick] button`, "Support")
	b.blurAll()
	b.viewport(1440, 1400)
	evalJS[chromedp.Void](b, `window.scrollTo(0, document.querySelector('.bot-step[data-step-id="topic"]').getBoundingClientRect().top + window.scrollY - 64)`)
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	b.waitJS("fonts", `document.fonts.status === "loaded"`)
	if err := os.WriteFile(filepath.Join(dir, "bot-editor.png"), b.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.setDark(true)
	if err := os.WriteFile(filepath.Join(dir, "bot-editor-dark.png"), b.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.setDark(false)
}
