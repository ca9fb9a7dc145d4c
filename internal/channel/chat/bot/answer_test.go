package bot

import "testing"

func TestParseAnswer(t *testing.T) {
	plans := []Choice{{Label: "Starter", Value: "starter"}, {Label: "Pro plan", Value: "pro"}, {Label: "3"}}
	tests := []struct {
		kind  AnswerKind
		lang  string
		in    string
		want  string
		valid bool
	}{
		{TextAnswer, "en", "  Anna Berg ", "Anna Berg", true},
		{TextAnswer, "en", "   ", "", false},
		{TextAnswer, "en", "\xff\xfe", "", false},

		{EmailAnswer, "en", "Anna.Berg@Example.COM", "anna.berg@example.com", true},
		{EmailAnswer, "en", " anna+sales@mail.example.se ", "anna+sales@mail.example.se", true},
		{EmailAnswer, "en", "anna@localhost", "", false},
		{EmailAnswer, "en", "anna@example.", "", false},
		{EmailAnswer, "en", "anna@.example.com", "", false},
		{EmailAnswer, "en", "anna@[192.168.0.1]", "", false},
		{EmailAnswer, "en", "Anna <anna@example.com>", "", false},
		{EmailAnswer, "en", "anna@example.com, bob@example.com", "", false},
		{EmailAnswer, "en", "anna at example dot com", "", false},
		{EmailAnswer, "en", "@example.com", "", false},

		{PhoneAnswer, "en", "+46 70-123 45 67", "+46701234567", true},
		{PhoneAnswer, "en", "(555) 123-4567", "5551234567", true},
		{PhoneAnswer, "en", "1234567", "1234567", true},
		{PhoneAnswer, "en", "123456", "", false},            // six digits
		{PhoneAnswer, "en", "+1234567890123456", "", false}, // sixteen digits
		{PhoneAnswer, "en", "46+701234567", "", false},      // plus inside
		{PhoneAnswer, "en", "070 123 45 67 ext 2", "", false},
		{PhoneAnswer, "en", "+46.70.123.45.67", "", false},

		{NumberAnswer, "en", "42", "42", true},
		{NumberAnswer, "en", "-3.50", "-3.5", true},
		{NumberAnswer, "en", "−7", "-7", true},
		{NumberAnswer, "en", "+0012", "12", true},
		{NumberAnswer, "en", "1,234.5", "1234.5", true},
		{NumberAnswer, "en", "1,234", "1234", true},
		{NumberAnswer, "en", "2,5", "2.5", true}, // a decimal comma is accepted in English too
		{NumberAnswer, "en", "1,234,567", "1234567", true},
		{NumberAnswer, "sv", "1,234", "1.234", true},
		{NumberAnswer, "sv", "1 234,50", "1234.5", true},
		{NumberAnswer, "sv", "1\u00a0234,5", "1234.5", true},
		{NumberAnswer, "da", "1.234,5", "1234.5", true},
		{NumberAnswer, "da", "1.234", "1234", true},
		{NumberAnswer, "nb", "1.234", "1.234", true},
		{NumberAnswer, "en", ".5", "0.5", true},
		{NumberAnswer, "en", "-0", "0", true},
		{NumberAnswer, "en", "12,34.5", "", false},
		{NumberAnswer, "en", "1e9", "", false},
		{NumberAnswer, "en", "NaN", "", false},
		{NumberAnswer, "en", "Inf", "", false},
		{NumberAnswer, "en", "0x10", "", false},
		{NumberAnswer, "en", "12.", "", false},
		{NumberAnswer, "en", "1.2.3,4", "", false},
		{NumberAnswer, "en", "ten", "", false},
		{NumberAnswer, "en", "--1", "", false},

		{DateAnswer, "en", "2025-03-31", "2025-03-31", true},
		{DateAnswer, "en", "2025/3/1", "2025-03-01", true},
		{DateAnswer, "en", "2025-02-29", "", false},
		{DateAnswer, "en", "2024-02-29", "2024-02-29", true},
		{DateAnswer, "en", "5 March 2025", "2025-03-05", true},
		{DateAnswer, "en", "March 5, 2025", "2025-03-05", true},
		{DateAnswer, "en", "Sept 30 2025", "2025-09-30", true},
		{DateAnswer, "en", "12/31/2025", "2025-12-31", true},
		{DateAnswer, "en", "31/12/2025", "2025-12-31", true},
		{DateAnswer, "en", "03/05/2025", "", false}, // March 5th or 3 May: refused, not guessed
		{DateAnswer, "en", "05/05/2025", "2025-05-05", true},
		{DateAnswer, "en", "31.12.2025", "", false},
		{DateAnswer, "sv", "31.12.2025", "2025-12-31", true},
		{DateAnswer, "nb", "1.2.2025", "2025-02-01", true},
		{DateAnswer, "da", "03/05/2025", "2025-05-03", true},
		{DateAnswer, "sv", "5 mars 2025", "2025-03-05", true},
		{DateAnswer, "nb", "17. mai 2025", "2025-05-17", true},
		{DateAnswer, "da", "5. marts 2025", "2025-03-05", true},
		{DateAnswer, "sv", "31.02.2025", "", false},
		{DateAnswer, "sv", "31 02 2025", "", false},
		{DateAnswer, "sv", "1,2,2025", "", false},
		{DateAnswer, "en", "tomorrow", "", false},
		{DateAnswer, "en", "2025-13-01", "", false},
		{DateAnswer, "en", "0999-01-01", "", false},

		{ChoiceAnswer, "en", "pro", "pro", true},        // a quick reply's value
		{ChoiceAnswer, "en", "PRO PLAN", "pro", true},   // the label, ignoring case
		{ChoiceAnswer, "en", "1", "starter", true},      // a position
		{ChoiceAnswer, "en", "3", "3", true},            // a value wins over a position
		{ChoiceAnswer, "en", "2", "pro", true},          // position 2
		{ChoiceAnswer, "en", "4", "", false},            // no fourth choice
		{ChoiceAnswer, "en", "0", "", false},            // positions count from 1
		{ChoiceAnswer, "en", "enterprise", "", false},   // not offered
		{ChoiceAnswer, "en", "+2", "", false},           // not a plain position
		{ChoiceAnswer, "en", "Starter plan", "", false}, // not the whole label
		{AnswerKind("colour"), "en", "red", "", false},  // unknown kind
		{TextAnswer, "en", string(make([]byte, 1001)), "", false},
	}
	for _, tt := range tests {
		got, ok := ParseAnswer(tt.kind, plans, tt.in, tt.lang)
		if ok != tt.valid || got != tt.want {
			t.Errorf("ParseAnswer(%s, %q, %s) = %q, %v; want %q, %v", tt.kind, tt.in, tt.lang, got, ok, tt.want, tt.valid)
		}
	}
}

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{"sv-SE": "sv", "nb_NO": "nb", "no": "nb", "nn": "nb", "DA": "da", "de": "en", "": "en"} {
		if got := Language(in); got != want {
			t.Errorf("Language(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultErrorMessages(t *testing.T) {
	kinds := []AnswerKind{TextAnswer, EmailAnswer, PhoneAnswer, NumberAnswer, DateAnswer, ChoiceAnswer}
	for _, lang := range []string{"en", "sv", "nb", "da"} {
		for _, k := range kinds {
			if defaultErrors[lang][k] == "" {
				t.Errorf("no default error message for %s in %s", k, lang)
			}
		}
	}
	if DefaultErrorMessage(EmailAnswer, "sv-SE") != defaultErrors["sv"][EmailAnswer] {
		t.Error("a locale tag should pick its language's message")
	}
}
