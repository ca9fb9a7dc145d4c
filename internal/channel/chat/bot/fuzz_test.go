package bot

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// FuzzParseAnswer feeds visitor answers to every kind of question. Whatever comes in, an
// accepted answer is normalised: parsing it again gives it back, and numbers and dates have
// their one canonical form.
func FuzzParseAnswer(f *testing.F) {
	kinds := []AnswerKind{TextAnswer, EmailAnswer, PhoneAnswer, NumberAnswer, DateAnswer, ChoiceAnswer}
	langs := []string{"en", "sv", "nb", "da"}
	for _, s := range []string{"anna@example.com", "+46 70-123 45 67", "1 234,5", "1,234.5", "1.234", "−7", "31.12.2025",
		"03/05/2025", "5. mars 2025", "March 5, 2025", "2", "pro plan", "", " ", "\xff", "1e9", "a@b", "0.5.5"} {
		for i := range kinds {
			f.Add(uint8(i), s, uint8(i%len(langs)))
		}
	}
	choices := []Choice{{Label: "Starter", Value: "starter"}, {Label: "Pro plan", Value: "pro"}, {Label: "3"}}
	f.Fuzz(func(t *testing.T, k uint8, in string, l uint8) {
		kind, lang := kinds[int(k)%len(kinds)], langs[int(l)%len(langs)]
		out, ok := ParseAnswer(kind, choices, in, lang)
		if !ok {
			if out != "" {
				t.Fatalf("rejected %q but returned %q", in, out)
			}
			return
		}
		switch kind {
		case NumberAnswer:
			if !canonicalNumber(out) {
				t.Fatalf("number %q normalised to %q", in, out)
			}
		case DateAnswer:
			d, err := time.Parse(time.DateOnly, out)
			if err != nil || !isoDate.MatchString(out) || d.Format(time.DateOnly) != out {
				t.Fatalf("date %q normalised to %q", in, out)
			}
			if again, ok := ParseAnswer(kind, choices, out, lang); !ok || again != out {
				t.Fatalf("normalised date %q does not parse as itself: %q", out, again)
			}
		default:
			if again, ok := ParseAnswer(kind, choices, out, lang); !ok || again != out {
				t.Fatalf("%s %q normalised to %q, which parses as %q, %v", kind, in, out, again, ok)
			}
		}
	})
}

// FuzzDecode feeds definitions to Decode and runs whatever it accepts, and whatever merely
// unmarshals, through the engine: nothing may panic, an accepted definition survives a round
// trip, and every call ends within the step limit.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(qualifyJSON))
	f.Add([]byte(`{"schema":1,"version":1,"steps":[{"id":"a","type":"send_message","send_message":{"text":"hi"},"next":"a"}]}`))
	f.Add([]byte(`{"schema":1,"version":1,"steps":[{"id":"w","type":"webhook","webhook":{"url":"https://x.example/","set_variables":{"v":"a.0"},"on_error":"w"}}]}`))
	f.Add([]byte(`{"schema":1,"version":2,"start":"q","steps":[{"id":"q","type":"ask_question","ask_question":{"kind":"choice","prompt":"?","choices":[{"label":"A"}],"fallback":"q"},"next":"b"},` +
		`{"id":"b","type":"branch","branch":{"cases":[{"conditions":[{"source":"team_availability","operator":"equals","value":"true"}],"next":"q"}]}}]}`))
	f.Add([]byte(`{"schema":1,"version":1,"steps":[{"id":"x","type":"branch"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"steps":null}`))
	inputs := []Input{Answer("a@b.example"), Answer("A"), Availability(map[int64]bool{0: true}),
		WebhookResponse(200, []byte(`{"a":["x"]}`)), WebhookResponse(500, nil), Answer("")}
	run := func(t *testing.T, d *Definition) {
		st, out := Start(d, Context{Language: "sv"})
		check := func(out []Output) {
			// A step emits at most three outputs (say, await, and an end or a property).
			if len(out) > 3*MaxStepsPerInput+3 {
				t.Fatalf("%d outputs from one call", len(out))
			}
		}
		check(out)
		for _, in := range inputs {
			b, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			var stored State
			if err := json.Unmarshal(b, &stored); err != nil {
				t.Fatal(err)
			}
			st, out = Step(d, stored, in)
			check(out)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err == nil {
			if err := d.Validate(); err != nil {
				t.Fatalf("decoded but invalid: %v", err)
			}
			d.Warnings()
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(b)
			if err != nil {
				t.Fatalf("re-encoded definition rejected: %v\n%s", err, b)
			}
			b2, err := json.Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != string(b2) {
				t.Fatalf("round trip changed the definition:\n%s\n%s", b, b2)
			}
			run(t, d)
		}
		// The engine must survive definitions that were never validated.
		var raw Definition
		if json.Unmarshal(data, &raw) == nil {
			raw.Warnings()
			run(t, &raw)
		}
	})
}
