package email

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// FuzzForwardedSender: any text a team member forwards must give either no sender or a real
// address, never a panic.
func FuzzForwardedSender(f *testing.F) {
	f.Add("---------- Forwarded message ---------\nFrom: Ana <ana@example.com>\n")
	f.Add("-----Original Message-----\nFrom: Ana Berg [mailto:ana@example.com]\nSent: Monday")
	f.Add("Begin forwarded message:\n\n> From: \"Berg, Ana\" <ana@example.com>")
	f.Add("Forwarded message\nFrom: <>\nFrom: mailto:")
	f.Fuzz(func(t *testing.T, text string) {
		p, ok := forwardedSender(text)
		if ok && (!strings.Contains(p.Address, "@") || p.Address != strings.ToLower(p.Address)) {
			t.Fatalf("forwardedSender(%q) = %+v", text, p)
		}
	})
}

// FuzzReceive runs arbitrary bytes through the whole pipeline on a real database: each input
// is stored once or refused as unreadable_email, and nothing else goes wrong.
func FuzzReceive(f *testing.F) {
	entries, _ := os.ReadDir(filepath.Join("mime", "testdata"))
	for _, e := range entries {
		if raw, err := os.ReadFile(filepath.Join("mime", "testdata", e.Name())); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("From: a@b\r\nIn-Reply-To: <parley.c1.m1.x.y@z>\r\nReferences: <<<>>>\r\nTo: support-desk+c1.bad@in.parley.test\r\n\r\n[#1] hi"))
	f.Add([]byte(""))
	f.Add([]byte("\x00\xff"))
	// One database for the whole run: opening one per input would dwarf the work.
	fx := newFixture(f, storetest.OpenSQLite(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		fx.t = t
		out, err := fx.svc.Receive(context.Background(), Delivery{InboxID: fx.ib.ID, Raw: raw})
		if err != nil {
			if p, ok := problem.As(err); ok && p.Code == "unreadable_email" {
				return
			}
			t.Fatalf("receive: %v", err)
		}
		again, err := fx.svc.Receive(context.Background(), Delivery{InboxID: fx.ib.ID, Raw: raw})
		if err != nil || out.MessageID != 0 && (!again.Duplicate || again.MessageID != out.MessageID) {
			t.Fatalf("second receive of the same bytes: %+v %v (first %+v)", again, err, out)
		}
	})
}
