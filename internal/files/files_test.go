package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

func TestDecideType(t *testing.T) {
	for _, tc := range []struct {
		declared string
		content  []byte
		want     string // "" means refused
	}{
		{"image/png", pngHead, "image/png"},
		{"image/x-png", pngHead, "image/png"},
		{"", pngHead, "image/png"},
		{"application/octet-stream", pngHead, "image/png"},
		{"text/plain", pngHead, "image/png"}, // the bytes win for inline types
		{"image/png", []byte("<html><script>alert(1)</script>"), ""},
		{"image/jpeg", pngHead, ""},
		{"application/pdf", []byte("<!DOCTYPE html><p>hi"), ""},
		{"application/pdf", []byte("%PDF-1.7\n"), "application/pdf"},
		{"", []byte("<html><body>hi"), "text/html; charset=utf-8"},
		{"text/csv", []byte("a,b\n1,2\n"), "text/csv; charset=utf-8"},
		{"text/csv; charset=ISO-8859-1", []byte("a,b\n"), "text/csv; charset=iso-8859-1"},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", []byte("PK\x03\x04"),
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"not a type", []byte("hello"), "text/plain; charset=utf-8"},
		{"image/svg+xml", []byte("<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"), "image/svg+xml"},
	} {
		got, err := decideType("x", tc.declared, sniff(tc.content))
		if tc.want == "" {
			if p, ok := problem.As(err); !ok || p.Code != "file_type_mismatch" {
				t.Errorf("%q with %q: want refused, got %q %v", tc.declared, tc.content, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q with %q: got %q %v, want %q", tc.declared, tc.content, got, err, tc.want)
		}
	}
	if !Inline("image/png") || !Inline("application/pdf") || Inline("text/html; charset=utf-8") || Inline("image/svg+xml") {
		t.Error("inline types")
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KB", 25 << 20: "25 MB", 10 << 30: "10 GB", 3023: "3 KB", 10209: "10 KB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// fixture is a files Store on a real database with an agent and a conversation.
type fixture struct {
	files *Store
	db    *store.Store
	agent *store.User
	other *store.User
	conv  int64
	conv2 int64
}

func newFixture(t *testing.T, db *store.Store) *fixture {
	ctx := context.Background()
	fx := &fixture{db: db, files: New(db, filepath.Join(t.TempDir(), "files"), "https://parley.example/")}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		fx.agent = &store.User{Email: "ana@example.com", Name: "Ana", Role: "agent"}
		fx.other = &store.User{Email: "bo@example.com", Name: "Bo", Role: "agent"}
		for _, u := range []*store.User{fx.agent, fx.other} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		in := &store.Inbox{Name: "Support", Access: "everyone"}
		if err := tx.CreateInbox(ctx, in); err != nil {
			return err
		}
		for _, id := range []*int64{&fx.conv, &fx.conv2} {
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			c := &store.Conversation{Number: n, InboxID: in.ID, Subject: "Invoice"}
			if err := tx.InsertConversation(ctx, c); err != nil {
				return err
			}
			*id = c.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func problemCode(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Code
	}
	return ""
}

func TestUploadAttachServeSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, db)
		s := fx.files
		content := append(append([]byte{}, pngHead...), bytes.Repeat([]byte{7}, 5000)...)

		f, err := s.Upload(ctx, fx.agent.ID, `C:\fakepath\photo of me.png`, "image/png", bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		if !validID(f.ID) || f.Name != "photo of me.png" || f.ContentType != "image/png" || f.Size != int64(len(content)) ||
			f.SHA256 != hex.EncodeToString(sum[:]) || f.Attached() {
			t.Fatalf("uploaded: %+v", f)
		}
		c, err := s.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(c)
		c.Close()
		if !bytes.Equal(got, content) {
			t.Fatal("content differs")
		}
		if tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp")); len(tmp) != 0 {
			t.Fatalf("temporary files left: %v", tmp)
		}

		// Too large: refused while reading, nothing left behind.
		s.MaxSize = 1000
		_, err = s.Upload(ctx, fx.agent.ID, "big.bin", "", bytes.NewReader(make([]byte, 1001)))
		if problemCode(err) != "file_too_large" || !strings.Contains(err.Error(), "1000 B") {
			t.Fatalf("too large: %v", err)
		}
		if tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp")); len(tmp) != 0 {
			t.Fatalf("temporary files left: %v", tmp)
		}
		if _, err := s.Upload(ctx, fx.agent.ID, "exact.bin", "", bytes.NewReader(make([]byte, 1000))); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		s.MaxSize = 0
		if _, err := s.Upload(ctx, fx.agent.ID, "empty.txt", "text/plain", strings.NewReader("")); problemCode(err) != "file_empty" {
			t.Fatalf("empty: %v", err)
		}
		if _, err := s.Upload(ctx, fx.agent.ID, "x.png", "image/png", strings.NewReader("<html>")); problemCode(err) != "file_type_mismatch" {
			t.Fatalf("mismatch: %v", err)
		}

		// Attach: only the uploader's own files, to one conversation.
		if _, err := s.Attach(ctx, fx.other.ID, fx.conv, []string{f.ID}); problemCode(err) != "attachment_not_found" {
			t.Fatalf("someone else's file: %v", err)
		}
		if _, err := s.Attach(ctx, fx.agent.ID, fx.conv, []string{"../../etc/passwd"}); problemCode(err) != "attachment_not_found" {
			t.Fatalf("junk id: %v", err)
		}
		att, err := s.Attach(ctx, fx.agent.ID, fx.conv, []string{f.ID})
		if err != nil || len(att) != 1 || *att[0].ConversationID != fx.conv {
			t.Fatalf("attach: %+v %v", att, err)
		}
		if _, err := s.Attach(ctx, fx.agent.ID, fx.conv, []string{f.ID}); err != nil {
			t.Fatalf("attach again to the same conversation: %v", err)
		}
		if _, err := s.Attach(ctx, fx.agent.ID, fx.conv2, []string{f.ID}); problemCode(err) != "attachment_in_use" {
			t.Fatalf("attach elsewhere: %v", err)
		}

		// Received files have no uploader: only the system attaches them.
		in, err := s.Put(ctx, "scan.pdf", "application/pdf", strings.NewReader("%PDF-1.4\n..."))
		if err != nil || in.UploaderID != nil {
			t.Fatalf("put: %+v %v", in, err)
		}
		if _, err := s.Attach(ctx, fx.agent.ID, fx.conv, []string{in.ID}); problemCode(err) != "attachment_not_found" {
			t.Fatalf("an agent attaching a received file: %v", err)
		}
		if _, err := s.Attach(ctx, 0, fx.conv, []string{in.ID}); err != nil {
			t.Fatal(err)
		}

		// Attachment JSON: what channels read.
		raw, err := s.AttachmentsJSON(ctx, att, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var list []Attachment
		if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 || list[0].ID != f.ID || list[0].Size != f.Size ||
			list[0].ContentType != "image/png" || !strings.HasPrefix(list[0].URL, "https://parley.example/files/"+f.ID+"/photo%20of%20me.png?") {
			t.Fatalf("attachments json: %s %v", raw, err)
		}

		// Sweep: an unattached upload goes after a day, attached files stay.
		loose, err := s.Upload(ctx, fx.agent.ID, "forgotten.txt", "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.Sweep(ctx, time.Now()); err != nil || n != 0 {
			t.Fatalf("sweep too early: %d %v", n, err)
		}
		n, err := s.Sweep(ctx, time.Now().Add(25*time.Hour))
		if err != nil || n != 2 { // forgotten.txt and exact.bin
			t.Fatalf("sweep: %d %v", n, err)
		}
		if _, err := s.File(ctx, loose.ID); problemCode(err) != "file_not_found" {
			t.Fatalf("swept file: %v", err)
		}
		if _, err := os.Stat(filepath.Join(s.Dir, loose.StorageKey)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("swept content: %v", err)
		}
		if _, err := s.File(ctx, f.ID); err != nil {
			t.Fatalf("attached file swept: %v", err)
		}
	})
}

func TestSignedURL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, db)
		f := &store.File{ID: newID(), Name: "a b.txt"}
		now := time.Now()
		raw, err := fx.files.SignedURL(ctx, f, now)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Path != "/files/"+f.ID+"/a b.txt" {
			t.Fatalf("signed url %q: %v", raw, err)
		}
		exp, sig := u.Query().Get("expires"), u.Query().Get("sig")
		if err := fx.files.CheckSignature(ctx, f.ID, exp, sig, now); err != nil {
			t.Fatalf("fresh link: %v", err)
		}
		// Another Store on the same database (another node) accepts it too.
		if err := New(db, t.TempDir(), "").CheckSignature(ctx, f.ID, exp, sig, now); err != nil {
			t.Fatalf("another node: %v", err)
		}
		if err := fx.files.CheckSignature(ctx, f.ID, exp, sig, now.Add(DefaultLinkTTL+time.Minute)); problemCode(err) != "file_link_expired" {
			t.Fatalf("expired: %v", err)
		}
		for name, args := range map[string][3]string{
			"other file":     {newID(), exp, sig},
			"later expiry":   {f.ID, exp + "0", sig},
			"changed sig":    {f.ID, exp, flip(sig)},
			"no sig":         {f.ID, exp, ""},
			"garbage expiry": {f.ID, "soon", sig},
		} {
			if err := fx.files.CheckSignature(ctx, args[0], args[1], args[2], now); problemCode(err) != "file_link_invalid" {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// flip changes the first character of a base64url string to another valid one.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
