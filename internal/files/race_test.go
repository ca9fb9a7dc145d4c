package files

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// Two messages on different conversations racing for one upload: one gets it, and the file
// ends on that conversation only.
func TestAttachOneUploadToTwoConversationsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, db)
		for range 5 {
			f, err := fx.files.Upload(ctx, fx.agent.ID, "a.txt", "text/plain", strings.NewReader("hello"))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, conv := range []int64{fx.conv, fx.conv2} {
				wg.Go(func() {
					<-start
					_, errs[i] = fx.files.Attach(ctx, fx.agent.ID, conv, []string{f.ID})
				})
			}
			close(start)
			wg.Wait()
			won := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if won >= 0 {
						t.Fatalf("both conversations got the file")
					}
					won = i
				case problemCode(err) != "attachment_in_use":
					t.Fatalf("loser: %v", err)
				}
			}
			got, err := fx.files.File(ctx, f.ID)
			if err != nil || won < 0 || *got.ConversationID != []int64{fx.conv, fx.conv2}[won] {
				t.Fatalf("file after the race: %+v %v (winner %d)", got, err, won)
			}
		}
	})
}

// An old upload a message carries at last is not swept. (That the delete itself checks again,
// for a message attaching it between the sweep's listing and its delete, is in the store's
// TestFiles: DeleteLooseFile.)
func TestSweepSparesAFileAttachedAfterListing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, db)
		f, err := fx.files.Upload(ctx, fx.agent.ID, "slow.txt", "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(25 * time.Hour)
		listed, err := db.LooseFiles(ctx, later.Add(-unattachedTTL).UnixMilli(), 100)
		if err != nil || len(listed) != 1 {
			t.Fatalf("listed: %+v %v", listed, err)
		}
		// The agent sends the reply after the sweep listed the file but before it deleted it.
		if _, err := fx.files.Attach(ctx, fx.agent.ID, fx.conv, []string{f.ID}); err != nil {
			t.Fatal(err)
		}
		if n, err := fx.files.Sweep(ctx, later); err != nil || n != 0 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if _, err := fx.files.File(ctx, f.ID); err != nil {
			t.Fatalf("attached file swept: %v", err)
		}
	})
}
