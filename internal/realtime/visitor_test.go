package realtime

import (
	"context"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/store"
)

// TestVisitorTyping: a live chat visitor's typing reaches everyone who may see the inbox — from
// this node (RelayVisitorTyping) and from another (the ephemeral message) — as a typing frame
// with "from": "visitor" and no user_id; the other nodes are told too.
func TestVisitorTyping(t *testing.T) {
	h := testHub(t, Options{})
	member := fakeConn(t, h, 1, 10, 10)
	outsider := fakeConn(t, h, 2, 10, 20)
	want := `{"type":"typing","conversation_id":5,"from":"visitor","mode":"reply"}`

	h.RelayVisitorTyping(5, 10) // not running yet: nothing, and no wait
	h.step()
	if got := received(member); len(got) != 0 {
		t.Fatalf("before Run: %q", got)
	}
	close(h.ready)
	h.RelayVisitorTyping(5, 10)
	h.step()
	if got := received(member); !slices.Equal(got, []string{want}) {
		t.Fatalf("member got %q, want %q", got, want)
	}

	h.remoteEphemeral(context.Background(), []byte(`{"node":"n2","kind":"typing","conversation_id":5,"inbox_id":10,"from":"visitor","mode":"reply"}`))
	h.step()
	if got := received(member); !slices.Equal(got, []string{want}) {
		t.Fatalf("from another node the member got %q, want %q", got, want)
	}
	if got := received(outsider); len(got) != 0 {
		t.Fatalf("the outsider got %q", got)
	}

	for _, bad := range []string{
		`{"node":"n2","kind":"typing","conversation_id":5,"inbox_id":10,"from":"visitor","user_id":3,"mode":"reply"}`,
		`{"node":"n2","kind":"typing","conversation_id":5,"inbox_id":10,"from":"bot","mode":"reply"}`,
		`{"node":"n2","kind":"typing","conversation_id":5,"inbox_id":10,"from":"visitor"}`,
		`{"node":"n2","kind":"typing","conversation_id":5,"inbox_id":10,"mode":"reply"}`,
	} {
		if _, err := parseEphemeral([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestConversationReadHook: the tailer's dispatch hands every conversation.read event, and no
// other, to OnConversationRead, and still delivers it to its user.
func TestConversationReadHook(t *testing.T) {
	h := testHub(t, Options{})
	reader := fakeConn(t, h, 3, 10, 10)
	type call struct{ conv, user, at int64 }
	var calls []call
	h.OnConversationRead = func(conv, user, at int64) { calls = append(calls, call{conv, user, at}) }
	inbox, conv, user := int64(10), int64(5), int64(3)
	ctx := context.Background()
	h.dispatch(ctx, &store.Event{Seq: 1, Type: events.TypeConversationRead, InboxID: &inbox, ConversationID: &conv,
		UserID: &user, Data: []byte(`{}`), CreatedAt: 1234})
	h.dispatch(ctx, &store.Event{Seq: 2, Type: events.TypeConversationUpdated, InboxID: &inbox, ConversationID: &conv,
		Data: []byte(`{}`), CreatedAt: 1235})
	h.step()
	if !slices.Equal(calls, []call{{5, 3, 1234}}) {
		t.Fatalf("hook calls %+v", calls)
	}
	if got := received(reader); len(got) != 2 {
		t.Fatalf("reader got %q", got)
	}
}
