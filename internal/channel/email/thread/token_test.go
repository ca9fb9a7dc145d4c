package thread

import (
	"slices"
	"strings"
	"testing"
)

func testThreader(t testing.TB) *Threader {
	t.Helper()
	tr, err := New([]byte("0123456789abcdef-installation-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestNewRejectsShortSecret(t *testing.T) {
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestReplyAddress(t *testing.T) {
	tr := testThreader(t)
	addr := tr.ReplyAddress("support@acme.example", 42)
	if !strings.HasPrefix(addr, "support+c42.") || !strings.HasSuffix(addr, "@acme.example") {
		t.Fatalf("address = %q", addr)
	}
	tok := strings.TrimSuffix(strings.TrimPrefix(addr, "support+"), "@acme.example")
	// Flip one signature character.
	flipped := []byte(tok)
	if flipped[len(flipped)-1] == 'a' {
		flipped[len(flipped)-1] = 'b'
	} else {
		flipped[len(flipped)-1] = 'a'
	}
	other, _ := New([]byte("another-installation-secret!"))
	for _, tc := range []struct {
		name string
		addr string
		want int64
	}{
		{"as made", addr, 42},
		{"upper-cased by a mail server", strings.ToUpper(addr), 42},
		{"with display name", "Acme Support <" + addr + ">", 42},
		{"other domain (forwarded company address)", "support+" + tok + "@parley.example", 42},
		{"extra plus tag before", "support+x+" + tok + "@acme.example", 42},
		{"tampered conversation", strings.Replace(addr, "c42.", "c43.", 1), 0},
		{"tampered signature", "support+" + string(flipped) + "@acme.example", 0},
		{"short signature", "support+" + tok[:len(tok)-1] + "@acme.example", 0},
		{"leading zero", strings.Replace(addr, "c42.", "c042.", 1), 0},
		{"other installation", other.ReplyAddress("support@acme.example", 42), 0},
		{"no token", "support@acme.example", 0},
		{"ordinary plus tag", "ana+news@example.org", 0},
		{"garbage", "+c1.@", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := tr.ParseReplyAddress(tc.addr)
			if ok != (tc.want != 0) || id != tc.want {
				t.Fatalf("ParseReplyAddress(%q) = %d %v, want %d", tc.addr, id, ok, tc.want)
			}
		})
	}
	if got := tr.ReplyAddress("not-an-address", 1); got != "not-an-address" {
		t.Fatalf("base without @ = %q", got)
	}
}

func TestMessageID(t *testing.T) {
	tr := testThreader(t)
	id := tr.MessageID(42, 1007, "mail.acme.example")
	if !strings.HasPrefix(id, "parley.c42.m1007.") || !strings.HasSuffix(id, "@mail.acme.example") {
		t.Fatalf("id = %q", id)
	}
	if id2 := tr.MessageID(42, 1007, "mail.acme.example"); id2 == id {
		t.Fatal("two Message-IDs for the same message must differ (random part)")
	}
	if ParseIDList(FormatIDList([]string{id}))[0] != id {
		t.Fatal("Message-ID does not survive a header round trip")
	}
	other, _ := New([]byte("another-installation-secret!"))
	for _, tc := range []struct {
		name      string
		id        string
		conv, msg int64
	}{
		{"bare", id, 42, 1007},
		{"bracketed", "<" + id + ">", 42, 1007},
		{"upper-cased", strings.ToUpper(id), 42, 1007},
		{"other domain", strings.Split(id, "@")[0] + "@rewritten.example", 42, 1007},
		{"tampered conversation", strings.Replace(id, "c42.", "c41.", 1), 0, 0},
		{"tampered message", strings.Replace(id, "m1007.", "m1008.", 1), 0, 0},
		{"other installation", other.MessageID(42, 1007, "mail.acme.example"), 0, 0},
		{"someone else's", "CAF=abc123@mail.gmail.com", 0, 0},
		{"prefix only", "parley.c1.m2@x", 0, 0},
		{"empty", "", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conv, msg, ok := tr.ParseMessageID(tc.id)
			if ok != (tc.conv != 0) || conv != tc.conv || msg != tc.msg {
				t.Fatalf("ParseMessageID(%q) = %d %d %v, want %d %d", tc.id, conv, msg, ok, tc.conv, tc.msg)
			}
		})
	}
	if !tr.IsOurMessageID(id) || tr.IsOurMessageID("x@y") {
		t.Fatal("IsOurMessageID")
	}
}

func TestMarker(t *testing.T) {
	tr := testThreader(t)
	m := tr.Marker(7)
	if !strings.Contains(m, "display:none") || !strings.Contains(m, tr.ConversationToken(7)) {
		t.Fatalf("marker = %q", m)
	}
	gmailQuote := `<div dir="ltr">Thanks!</div><div class="gmail_quote"><blockquote>Hello<br>` + m + `</blockquote></div>`
	textQuote := "Thanks!\n\nOn Monday Acme wrote:\n> Hello\n> " + "{#parley:" + tr.ConversationToken(7) + "#}\n"
	forged := strings.Replace(m, "c7.", "c8.", 1)
	for _, tc := range []struct {
		name string
		body string
		want int64
	}{
		{"html quote", gmailQuote, 7},
		{"text quote", textQuote, 7},
		{"upper-cased", strings.ToUpper(gmailQuote), 7},
		{"forged first, valid later", forged + gmailQuote, 7},
		{"forged", forged, 0},
		{"none", "<p>hi</p>", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := tr.FindMarker(tc.body)
			if ok != (tc.want != 0) || id != tc.want {
				t.Fatalf("FindMarker = %d %v, want %d", id, ok, tc.want)
			}
		})
	}
}

func TestSubjectTokens(t *testing.T) {
	for _, tc := range []struct {
		subject string
		want    []int64
	}{
		{"Re: Broken invoice [#1042]", []int64{1042}},
		{"[#1042] Broken invoice", []int64{1042}},
		{"AW: [#1042] and [#1043]", []int64{1042, 1043}},
		{"[#0] [#01] [# 5] [#abc] #1042", nil},
		{"", nil},
	} {
		if got := SubjectTokens(tc.subject); !slices.Equal(got, tc.want) {
			t.Errorf("SubjectTokens(%q) = %v, want %v", tc.subject, got, tc.want)
		}
	}
	if got := WithSubjectToken("Broken invoice", 1042); got != "Broken invoice [#1042]" {
		t.Fatal(got)
	}
	if got := WithSubjectToken("Re: Broken invoice [#1042]", 1042); got != "Re: Broken invoice [#1042]" {
		t.Fatal(got)
	}
	if got := WithSubjectToken("  ", 7); got != "[#7]" {
		t.Fatal(got)
	}
}

func TestReplySubject(t *testing.T) {
	for in, want := range map[string]string{
		"Invoice":          "Re: Invoice",
		"Re: Invoice":      "Re: Invoice",
		"RE: Invoice":      "RE: Invoice",
		"AW: Rechnung":     "AW: Rechnung",
		"SV: Faktura":      "SV: Faktura",
		"Re[3]: Invoice":   "Re[3]: Invoice",
		"Fwd: Invoice":     "Re: Fwd: Invoice",
		"Regarding: thing": "Re: Regarding: thing",
		"":                 "Re: ",
	} {
		if got := ReplySubject(in); got != want {
			t.Errorf("ReplySubject(%q) = %q, want %q", in, got, want)
		}
	}
}
