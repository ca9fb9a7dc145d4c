package thread

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseIDList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"<a@b>", []string{"a@b"}},
		{"  <a@b>  <c@d>\r\n\t<e@f>", []string{"a@b", "c@d", "e@f"}},
		{"<a@b><c@d>", []string{"a@b", "c@d"}},
		{"<a@b>, <c@d>", []string{"a@b", "c@d"}},
		{"<a@b> <a@b> <c@d>", []string{"a@b", "c@d"}},
		// Comments and free text (pre-2822 mailers).
		{"<a@b> (Ana's message of Monday)", []string{"a@b"}},
		{"(comment (nested) <x@y>) <a@b>", []string{"a@b"}},
		{`Your message of "Mon, 1 Jan" <a@b>`, []string{"a@b"}},
		// Folded inside an id.
		{"<very-long-left\r\n part@b>", []string{"very-long-leftpart@b"}},
		// Without brackets.
		{"a@b c@d", []string{"a@b", "c@d"}},
		{"a@b,c@d", []string{"a@b", "c@d"}},
		{"no-at-sign", nil},
		// Broken brackets.
		{"<a@b", []string{"a@b"}},
		{"<<a@b>", []string{"a@b"}},
		{"<>", nil},
		{"< >", nil},
		{"<a\x00@b>", nil},
		{"<" + strings.Repeat("x", MaxIDLength) + "@b>", nil},
		// Ids whose left part has no @ are kept when bracketed: broken mailers send them.
		{"<1234.5678>", []string{"1234.5678"}},
	} {
		if got := ParseIDList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("ParseIDList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseIDListCaps(t *testing.T) {
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "<id%d@x> ", i)
	}
	got := ParseIDList(b.String())
	if len(got) != MaxParsedIDs || got[0] != "id0@x" || got[1] != "id401@x" || got[len(got)-1] != "id499@x" {
		t.Fatalf("capped = %d ids, %q … %q", len(got), got[:2], got[len(got)-1])
	}
}

func TestReplyIDs(t *testing.T) {
	for _, tc := range []struct {
		name              string
		parent, refs, irt string
		wantIRT           string
		wantRefs          []string
	}{
		{"no parent", "", "<a@b>", "", "", nil},
		{"first reply", "<p@x>", "", "", "p@x", []string{"p@x"}},
		{"parent references then parent", "<p@x>", "<r1@x> <r2@x>", "<r2@x>", "p@x", []string{"r1@x", "r2@x", "p@x"}},
		{"in-reply-to when no references", "<p@x>", "", "<r@x>", "p@x", []string{"r@x", "p@x"}},
		{"several in-reply-to ids are ambiguous", "<p@x>", "", "<r@x> <s@x>", "p@x", []string{"p@x"}},
		{"parent already in references", "<p@x>", "<r@x> <p@x>", "", "p@x", []string{"r@x", "p@x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			irt, refs := ReplyIDs(tc.parent, tc.refs, tc.irt)
			if irt != tc.wantIRT || !slices.Equal(refs, tc.wantRefs) {
				t.Fatalf("ReplyIDs = %q %q, want %q %q", irt, refs, tc.wantIRT, tc.wantRefs)
			}
		})
	}
}

func TestCapReferences(t *testing.T) {
	var ids []string
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("message-%02d.with-a-realistic-length@mail.example.com", i))
	}
	got := CapReferences(ids)
	if got[0] != ids[0] || got[len(got)-1] != ids[59] || got[len(got)-2] != ids[58] {
		t.Fatalf("must keep the first and the newest: %q", got)
	}
	if len(got) > maxReferences {
		t.Fatalf("%d ids, want at most %d", len(got), maxReferences)
	}
	if h := "References: " + FormatIDList(got); len(h) > 998 {
		t.Fatalf("header line is %d characters", len(h))
	}
	// Newest kept in order, contiguous.
	for i := 1; i < len(got); i++ {
		if want := ids[60-len(got)+i]; got[i] != want {
			t.Fatalf("got[%d] = %q, want %q", i, got[i], want)
		}
	}
	short := []string{"a@b", "c@d"}
	if got := CapReferences(short); !slices.Equal(got, short) {
		t.Fatalf("short list changed: %q", got)
	}
	if CapReferences(nil) != nil {
		t.Fatal("nil in, nil out")
	}
}

func TestFormatIDList(t *testing.T) {
	if got := FormatIDList([]string{"a@b", "c@d"}); got != "<a@b> <c@d>" {
		t.Fatal(got)
	}
	if got := NormalizeID(" <a@b> "); got != "a@b" {
		t.Fatal(got)
	}
}

// FuzzParseIDList checks the parser never panics, returns only clean ids within the bounds, and
// that formatting its result and parsing again gives the same ids.
func FuzzParseIDList(f *testing.F) {
	for _, s := range []string{
		"<a@b>", "<a@b> (comment) <c@d>", "a@b c@d", "<<>>", "(((", "<a@b", `Your message of "x" <a@b>`,
		"<parley.c1.m2.aaaaaaaaaaaaa.bbbbbbbbbbbbb@example.com>", "\\(<a@b>)", "<a\r\n b@c>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := ParseIDList(s)
		if len(ids) > MaxParsedIDs {
			t.Fatalf("%d ids", len(ids))
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" || len(id) > MaxIDLength || strings.ContainsAny(id, "<> \t\r\n") || seen[id] {
				t.Fatalf("bad id %q in %q", id, ids)
			}
			seen[id] = true
		}
		if again := ParseIDList(FormatIDList(ids)); !slices.Equal(again, ids) {
			t.Fatalf("round trip: %q → %q", ids, again)
		}
		irt, refs := ReplyIDs(s, s, s)
		if irt != "" && refs[len(refs)-1] != irt {
			t.Fatalf("references must end with the parent: %q %q", irt, refs)
		}
		tr := testThreader(t)
		tr.ParseMessageID(s)
		tr.ParseReplyAddress(s)
		tr.FindMarker(s)
		SubjectTokens(s)
	})
}
