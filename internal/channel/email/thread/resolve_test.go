package thread

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// fakeLookup is an in-memory Lookup: Message-IDs per channel, conversation numbers, and
// participants per conversation.
type fakeLookup struct {
	ids          map[int64]map[string]int64 // channel → Message-ID → conversation
	numbers      map[int64]int64            // number → conversation
	participants map[int64][]string         // conversation → addresses
	gone         map[int64]bool             // deleted conversations
	err          error
	idQueries    int
}

func (f *fakeLookup) EmailConversationsByMessageIDs(_ context.Context, channelID int64, ids []string) (map[string]int64, error) {
	f.idQueries++
	out := map[string]int64{}
	for _, id := range ids {
		if c, ok := f.ids[channelID][id]; ok {
			out[id] = c
		}
	}
	return out, f.err
}

func (f *fakeLookup) EmailConversationExists(_ context.Context, id int64) (bool, error) {
	return id > 0 && id < 1000 && !f.gone[id], f.err
}

func (f *fakeLookup) EmailConversationByNumber(_ context.Context, n int64) (int64, bool, error) {
	id, ok := f.numbers[n]
	return id, ok, f.err
}

func (f *fakeLookup) EmailParticipant(_ context.Context, conv int64, addr string) (bool, error) {
	for _, p := range f.participants[conv] {
		if p == addr {
			return true, f.err
		}
	}
	return false, f.err
}

func TestResolve(t *testing.T) {
	tr := testThreader(t)
	const channel = 5
	lookup := func() *fakeLookup {
		return &fakeLookup{
			ids: map[int64]map[string]int64{
				channel: {"root@customer.example": 10, "reply1@customer.example": 11, "ours-stored@parley.example": 12},
				6:       {"elsewhere@customer.example": 13},
			},
			numbers:      map[int64]int64{1010: 10, 1011: 11, 1020: 20},
			participants: map[int64][]string{10: {"ada@customer.example"}, 11: {"ada@customer.example"}, 20: {"bea@customer.example"}},
			gone:         map[int64]bool{99: true},
		}
	}
	ourID := "<" + tr.MessageID(30, 300, "parley.example") + ">"
	goneID := "<" + tr.MessageID(99, 900, "parley.example") + ">"
	forgedID := strings.Replace(ourID, "c30.", "c31.", 1)
	plus := tr.ReplyAddress("support@acme.example", 40)
	tamperedPlus := strings.Replace(plus, "c40.", "c41.", 1)
	marker := "<blockquote>old text" + tr.Marker(50) + "</blockquote>"

	for _, tc := range []struct {
		name        string
		in          Incoming
		wantConv    int64
		wantRule    Rule
		wantIgnored int
	}{
		{"nothing: new conversation", Incoming{Subject: "Hello", From: "ada@customer.example"}, 0, RuleNew, 0},

		// 1. Plus address.
		{"plus address in To", Incoming{Recipients: []string{"other@acme.example", plus}}, 40, RuleReplyAddress, 0},
		{"plus address upper-cased", Incoming{Recipients: []string{strings.ToUpper(plus)}}, 40, RuleReplyAddress, 0},
		{"plus address beats In-Reply-To", Incoming{Recipients: []string{plus}, InReplyTo: "<root@customer.example>"}, 40, RuleReplyAddress, 0},
		{"tampered plus address is rejected", Incoming{Recipients: []string{tamperedPlus}}, 0, RuleNew, 1},
		{"tampered plus falls through to In-Reply-To", Incoming{Recipients: []string{tamperedPlus}, InReplyTo: "<root@customer.example>"}, 10, RuleInReplyTo, 1},
		{"plus address of a deleted conversation", Incoming{Recipients: []string{tr.ReplyAddress("s@x", 99)}, Subject: "[#1010]", From: "ada@customer.example"}, 10, RuleSubjectToken, 0},
		{"ordinary plus tag is not reported", Incoming{Recipients: []string{"ana+news@example.org"}}, 0, RuleNew, 0},

		// 2. In-Reply-To and References.
		{"in-reply-to", Incoming{InReplyTo: "<reply1@customer.example>"}, 11, RuleInReplyTo, 0},
		{"in-reply-to beats references", Incoming{InReplyTo: "<reply1@customer.example>", References: "<root@customer.example>"}, 11, RuleInReplyTo, 0},
		{"unknown in-reply-to, references finds it", Incoming{InReplyTo: "<unknown@x>", References: "<unknown0@x> <root@customer.example> <unknown@x>"}, 10, RuleReferences, 0},
		{"references newest first", Incoming{References: "<root@customer.example> <reply1@customer.example>"}, 11, RuleReferences, 0},
		{"references from any id in the chain", Incoming{References: "<a@x> <b@x> <root@customer.example> <c@x> <d@x>"}, 10, RuleReferences, 0},
		{"stored id of our own", Incoming{InReplyTo: "<ours-stored@parley.example>"}, 12, RuleInReplyTo, 0},
		{"our signed id when the table lost it", Incoming{References: "<a@x> " + ourID}, 30, RuleReferences, 0},
		{"our id beats an older stored one", Incoming{References: "<root@customer.example> " + ourID}, 30, RuleReferences, 0},
		{"forged id of ours is ignored", Incoming{InReplyTo: forgedID}, 0, RuleNew, 0},
		{"our id of a deleted conversation", Incoming{InReplyTo: goneID, References: "<root@customer.example>"}, 10, RuleReferences, 0},
		{"id seen on another channel only", Incoming{InReplyTo: "<elsewhere@customer.example>"}, 0, RuleNew, 0},
		{"references beat a subject token", Incoming{References: "<root@customer.example>", Subject: "Re: [#1020]", From: "bea@customer.example"}, 10, RuleReferences, 0},

		// 3. Subject token.
		{"subject token from the participant", Incoming{Subject: "Re: Invoice [#1010]", From: "ada@customer.example"}, 10, RuleSubjectToken, 0},
		{"subject token, sender case differs", Incoming{Subject: "Re: Invoice [#1010]", From: " Ada@Customer.example"}, 10, RuleSubjectToken, 0},
		{"forged subject token from a non-participant", Incoming{Subject: "Re: Invoice [#1010]", From: "mallory@evil.example"}, 0, RuleNew, 1},
		{"second subject token trusted", Incoming{Subject: "[#1010] [#1020]", From: "bea@customer.example"}, 20, RuleSubjectToken, 1},
		{"unknown number", Incoming{Subject: "[#5555]", From: "ada@customer.example"}, 0, RuleNew, 0},
		{"subject token beats marker", Incoming{Subject: "[#1010]", From: "ada@customer.example", HTML: marker}, 10, RuleSubjectToken, 0},

		// 4. Hidden marker.
		{"marker in html", Incoming{HTML: marker}, 50, RuleHiddenMarker, 0},
		{"marker in text", Incoming{Text: "> " + tr.Marker(50)}, 50, RuleHiddenMarker, 0},
		{"marker after a forged subject token", Incoming{Subject: "[#1010]", From: "mallory@evil.example", HTML: marker}, 50, RuleHiddenMarker, 1},
		{"marker of a deleted conversation", Incoming{HTML: tr.Marker(99)}, 0, RuleNew, 0},
		{"forged marker", Incoming{HTML: strings.Replace(marker, "c50.", "c51.", 1)}, 0, RuleNew, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.ChannelID = channel
			l := lookup()
			d, err := tr.Resolve(context.Background(), tc.in, l)
			if err != nil {
				t.Fatal(err)
			}
			if d.ConversationID != tc.wantConv || d.Rule != tc.wantRule {
				t.Fatalf("Resolve = %+v, want conversation %d by %s", d, tc.wantConv, tc.wantRule)
			}
			if len(d.Ignored) != tc.wantIgnored {
				t.Fatalf("ignored = %q, want %d", d.Ignored, tc.wantIgnored)
			}
			if d.Rule != RuleNew && d.Evidence == "" {
				t.Fatal("a match must say what matched")
			}
			if l.idQueries > 1 {
				t.Fatalf("%d Message-ID queries, want at most one", l.idQueries)
			}
			if d.Explain() == "" {
				t.Fatal("no explanation")
			}
		})
	}
}

func TestResolveLookupError(t *testing.T) {
	tr := testThreader(t)
	boom := errors.New("database down")
	for _, in := range []Incoming{
		{InReplyTo: "<a@b>"},
		{Subject: "[#1]", From: "a@b"},
		{Recipients: []string{tr.ReplyAddress("s@x", 1)}},
		{HTML: tr.Marker(1)},
	} {
		_, err := tr.Resolve(context.Background(), in, &fakeLookup{err: boom, numbers: map[int64]int64{1: 1}})
		if !errors.Is(err, boom) {
			t.Fatalf("%+v: err = %v", in, err)
		}
	}
}
