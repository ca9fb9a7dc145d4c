package inbox_test

import (
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestReadCacheIsPerActorAndCopies: within one request's cache, a conversation read by one
// person is never handed to another who may not see it, and a caller changing its copy does
// not change what the next caller gets.
func TestReadCacheIsPerActorAndCopies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, conv := f.receive("cache", "hello")
		f.update(f.admin, conv.ID, inbox.Patch{Tags: ptr([]string{"billing"})})
		ctx := inbox.WithReadCache(f.ctx)

		first, err := f.svc.Conversation(ctx, f.agent, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		first.Subject, first.Tags[0] = "changed by a caller", "changed"
		again, err := f.svc.Conversation(ctx, f.agent, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if again.Subject == "changed by a caller" || again.Tags[0] != "billing" {
			t.Fatalf("the cache handed out a caller's changes: %+v", again)
		}
		if _, err := f.svc.Conversation(ctx, f.outsider, conv.ID); err == nil {
			t.Fatal("the outsider got the conversation from the agent's read")
		}
		if _, err := f.svc.Timeline(ctx, f.outsider, conv.ID); err == nil {
			t.Fatal("the outsider got the timeline")
		}
	})
}
