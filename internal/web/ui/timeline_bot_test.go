package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

// TestTimelineBotEvents: the events of a chat bot's run (CHAT-9) read as sentences that name the
// bot, the agent and the ticket, in every language, with the data the bot runtime writes.
func TestTimelineBotEvents(t *testing.T) {
	one := int64(1)
	people := &inbox.TimelinePeople{Users: map[int64]*store.User{1: {ID: 1, Name: "Ana"}}}
	events := []struct {
		typ    string
		actor  *int64
		data   string
		text   string // in English
		detail string
	}{
		{"bot_started", nil, `{"bot_id": 3, "bot_name": "Triage", "version": 2}`, "The bot Triage started the chat", ""},
		{"bot_handed_off", nil, `{"bot_id": 3, "bot_name": "Triage", "reason": "handed_off", "step": "handoff"}`,
			"The bot Triage handed the chat to the team", ""},
		{"bot_ended", nil, `{"bot_id": 3, "bot_name": "Triage", "reason": "completed", "step": "bye"}`, "The bot Triage finished", ""},
		{"bot_ended", nil, `{"bot_id": 3, "bot_name": "Triage", "reason": "no_valid_answer", "step": "ask"}`,
			"The bot Triage stopped: no valid answer", ""},
		{"bot_ended", nil, `{"bot_id": 3, "bot_name": "Triage", "reason": "step_limit"}`, "The bot Triage finished",
			"Stopped after too many steps in a row"},
		{"bot_ended", nil, `{"bot_id": 3, "bot_name": "Triage", "reason": "definition_changed"}`, "The bot Triage finished",
			"The bot was changed while it ran"},
		{"bot_ended", nil, `{"bot_id": 3, "bot_name": "Triage", "reason": "broken_definition"}`, "The bot Triage finished",
			"A step of the bot is broken"},
		{"bot_ended", nil, `{"reason": "closed"}`, "The bot stopped: the conversation was closed", ""},
		{"bot_ended", nil, `{}`, "The bot (deleted bot) finished", ""},
		{"bot_taken_over", &one, `{}`, "Ana took over from the bot", ""},
		{"bot_taken_over", &one, `{"reason": "replied"}`, "Ana took over from the bot by replying", ""},
		{"ticket_created", nil, `{"ticket_id": 9, "name": "Broken zip", "source": "bot"}`, "The bot created the ticket “Broken zip”", ""},
		{"ticket_created", &one, `{"ticket_id": 9, "name": "Broken zip"}`, "Ana created the ticket “Broken zip”", ""},
		{"ticket_created", nil, `{"ticket_id": 9, "source": "bot"}`, "The bot created the ticket “(untitled)”", ""},
	}
	for _, code := range Languages {
		pg := &Page{Lang: langs[code], Loc: time.UTC}
		b := timelineBuilder{pg: pg, people: people, now: time.Now()}
		for _, ev := range events {
			e := b.entry(inbox.TimelineItem{Kind: "event", CreatedAt: store.Now(),
				Event: &store.ConversationEvent{ID: 1, Type: ev.typ, ActorID: ev.actor, Data: json.RawMessage(ev.data)}})
			all := e.Text + e.Detail
			if e.Text == "" || strings.Contains(all, "timeline.") || strings.Contains(all, "%!") || strings.Contains(all, "bot_") {
				t.Errorf("%s %s %s: %q / %q", code, ev.typ, ev.data, e.Text, e.Detail)
			}
			if (ev.detail == "") != (e.Detail == "") {
				t.Errorf("%s %s %s: detail %q", code, ev.typ, ev.data, e.Detail)
			}
			for _, name := range []string{"Triage", "Ana", "Broken zip"} {
				if strings.Contains(ev.text, name) && !strings.Contains(e.Text, name) {
					t.Errorf("%s %s %s: %q does not name %s", code, ev.typ, ev.data, e.Text, name)
				}
			}
			if code == "en" && (e.Text != ev.text || e.Detail != ev.detail) {
				t.Errorf("%s %s: %q / %q, want %q / %q", ev.typ, ev.data, e.Text, e.Detail, ev.text, ev.detail)
			}
		}
	}
}
