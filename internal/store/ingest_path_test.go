package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// The reads and writes receiving a message uses on its hot path (PERF-1).

func newTestConversation(t *testing.T, s *store.Store, inboxID int64, c store.Conversation) *store.Conversation {
	t.Helper()
	ctx := t.Context()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		n, err := tx.NextConversationNumber(ctx)
		if err != nil {
			return err
		}
		c.Number, c.InboxID = n, inboxID
		return tx.InsertConversation(ctx, &c)
	})
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

func newTestInbox(t *testing.T, s *store.Store) *store.Inbox {
	t.Helper()
	in := &store.Inbox{Name: "Hot path", Access: "everyone"}
	if err := s.InTx(t.Context(), func(tx *store.Tx) error { return tx.CreateInbox(t.Context(), in) }); err != nil {
		t.Fatal(err)
	}
	return in
}

// UpdateConversationFrom writes what changed — including fields set back to empty — and leaves
// the rest as stored; the row reads back exactly as the struct written.
func TestUpdateConversationFrom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		in := newTestInbox(t, s)
		snooze, closed, inbound := int64(1_700_000_000_000), int64(1_700_000_100_000), int64(1_700_000_200_000)
		created := newTestConversation(t, s, in.ID, store.Conversation{ThreadKey: "k", Subject: "Hello",
			Preview: "first", SnoozedUntil: &snooze, Priority: "high", LastInboundAt: &inbound})

		var got *store.Conversation
		err := s.InTx(ctx, func(tx *store.Tx) error {
			c, err := tx.Conversation(ctx, created.ID)
			if err != nil {
				return err
			}
			before := store.CopyConversation(c)
			c.Preview = "second"
			c.Status, c.ClosedAt = "closed", &closed
			c.SnoozedUntil = nil // set back to empty: must be written
			c.Filtered = true
			c.LastActivityAt += 5
			*before.LastInboundAt = 0 // the copy shares no memory with c
			before.LastInboundAt = c.LastInboundAt
			if err := tx.UpdateConversationFrom(ctx, before, c); err != nil {
				return err
			}
			got = c
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if *got.LastInboundAt != inbound {
			t.Fatalf("CopyConversation shared LastInboundAt with the original")
		}
		back, err := s.Conversation(ctx, created.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		back.Unread, got.Unread = false, false
		if !reflect.DeepEqual(back, got) {
			t.Errorf("read back\n%+v\nwant\n%+v", back, got)
		}
		if back.Subject != "Hello" || back.Priority != "high" || back.SnoozedUntil != nil || !back.Filtered || back.Status != "closed" {
			t.Errorf("read back %+v", back)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			gone := store.CopyConversation(got)
			gone.ID = -1
			return tx.UpdateConversationFrom(ctx, store.CopyConversation(gone), gone)
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of a missing conversation: %v, want ErrNotFound", err)
		}
	})
}

// A conversation read inside a transaction carries its tags, in the order the other reads give
// them, read in one statement; one without tags has an empty list.
func TestConversationReadsTags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		in := newTestInbox(t, s)
		tagged := newTestConversation(t, s, in.ID, store.Conversation{ThreadKey: "tagged"})
		plain := newTestConversation(t, s, in.ID, store.Conversation{ThreadKey: "plain"})
		err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetConversationTags(ctx, tagged.ID, []string{"vip", "Billing", "billing", "été"})
		})
		if err != nil {
			t.Fatal(err)
		}
		read, err := s.Conversation(ctx, tagged.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.SQLite {
			if want := []string{"Billing", "billing", "vip", "été"}; !reflect.DeepEqual(read.Tags, want) {
				t.Errorf("tags read %q, want %q", read.Tags, want)
			}
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range []*store.Conversation{tagged, plain} {
				byID, err := tx.Conversation(ctx, c.ID)
				if err != nil {
					return err
				}
				byThread, err := tx.ConversationByThread(ctx, 0, "none")
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("no such thread: %+v, %v", byThread, err)
				}
				want := []string{}
				if c == tagged {
					want = read.Tags
				}
				if byID.Tags == nil || !reflect.DeepEqual(byID.Tags, want) {
					t.Errorf("conversation %d: tags %#v, want %#v", c.ID, byID.Tags, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// ContactByIdentity finds the holder of an identity in one read.
func TestContactByIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			c := &store.Contact{Name: "Ada", Blocked: true}
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
			id := store.Identity{Kind: "email", Value: "ada@example.com"}
			if _, err := tx.AddContactIdentity(ctx, c.ID, id); err != nil {
				return err
			}
			got, err := tx.ContactByIdentity(ctx, id)
			if err != nil {
				return err
			}
			if got.ID != c.ID || got.Name != "Ada" || !got.Blocked {
				t.Errorf("got %+v, want contact %d", got, c.ID)
			}
			if _, err := tx.ContactByIdentity(ctx, store.Identity{Kind: "email", Value: "bob@example.com"}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown identity: %v, want ErrNotFound", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// In a shared transaction a caller's search rows are written with the group (after every
// savepoint) and only if its work stands: a failing caller's rows go with its savepoint.
func TestInGroupTxSearchRowsFollowTheirCaller(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		in := newTestInbox(t, s)
		const n = 60
		convs := make([]*store.Conversation, n)
		for i := range n {
			convs[i] = newTestConversation(t, s, in.ID, store.Conversation{ThreadKey: strconv.Itoa(i)})
		}
		word := func(i, j int) string { return "probe" + strconv.Itoa(i) + "x" + strconv.Itoa(j) + "y" }
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.InGroupTx(ctx, func(tx *store.Tx) error {
					// Two texts of one conversation in one group: each keeps its own row.
					for j := range 2 {
						if err := tx.IndexText(ctx, convs[i].ID, "text "+word(i, j)); err != nil {
							return err
						}
					}
					if i%4 == 1 {
						return errors.New("refused")
					}
					return nil
				})
			})
		}
		wg.Wait()
		if s.Dialect() == store.SQLite && store.LargestGroup(s) < 2 {
			t.Errorf("no transaction was shared: the largest group held %d calls", store.LargestGroup(s))
		}
		for i := range n {
			failed := i%4 == 1
			if failed != (errs[i] != nil) {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			for j := range 2 {
				list, _, err := s.Conversations(ctx, store.ConversationFilter{Q: word(i, j)})
				if err != nil {
					t.Fatal(err)
				}
				found := len(list) == 1 && list[0].ID == convs[i].ID
				if found == failed {
					t.Errorf("call %d text %d: found %v (%d conversations), want %v", i, j, found, len(list), !failed)
				}
			}
		}
	})
}

// TestIndexHugeText: a message whose text would make a tsvector over PostgreSQL's 1 MB limit is
// still stored; only its start is indexed.
func TestIndexHugeText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var b strings.Builder
		for i := 0; b.Len() < 3<<20; i++ {
			fmt.Fprintf(&b, "w%dx%d ", i, i*7919)
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			in := &store.Inbox{Name: "Huge", Access: "everyone"}
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			c := &store.Conversation{Number: n, InboxID: in.ID, Status: "open", Priority: "none", CreatedAt: 1, LastActivityAt: 1}
			if err := tx.InsertConversation(ctx, c); err != nil {
				return err
			}
			return tx.IndexText(ctx, c.ID, b.String())
		})
		if err != nil {
			t.Fatalf("index 3 MB of distinct words: %v", err)
		}
	})
}
