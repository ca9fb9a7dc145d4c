package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

const (
	// DefaultMaxSize is the largest file accepted when Store.MaxSize is not set.
	DefaultMaxSize = 25 << 20
	// DefaultLinkTTL is how long a signed download URL works when Store.LinkTTL is not set.
	DefaultLinkTTL = 7 * 24 * time.Hour
	// unattachedTTL is how long an uploaded file waits for a message to carry it.
	unattachedTTL = 24 * time.Hour
	// tmpTTL is how old a temporary file must be before Sweep takes it for a crash's leftover.
	tmpTTL = time.Hour
)

// Store keeps files: content on disk under Dir, metadata in DB. Set the fields, then use it
// from any number of goroutines.
type Store struct {
	DB *store.Store
	// Dir holds the content, normally <data dir>/files. Every node must see the same directory.
	Dir string
	// BaseURL is the installation's public URL, for the absolute links in attachment JSON.
	BaseURL string
	// MaxSize is the largest file in bytes; 0 means DefaultMaxSize.
	MaxSize int64
	// LinkTTL is how long signed URLs work; 0 means DefaultLinkTTL.
	LinkTTL time.Duration
	Log     *slog.Logger

	keyMu sync.Mutex
	key   []byte // the URL signing key, loaded on first use
}

// New returns a Store keeping content in dir.
func New(db *store.Store, dir, baseURL string) *Store {
	return &Store{DB: db, Dir: dir, BaseURL: baseURL}
}

// Limit is the largest file accepted, in bytes.
func (s *Store) Limit() int64 {
	if s.MaxSize > 0 {
		return s.MaxSize
	}
	return DefaultMaxSize
}

func (s *Store) linkTTL() time.Duration {
	if s.LinkTTL > 0 {
		return s.LinkTTL
	}
	return DefaultLinkTTL
}

func (s *Store) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// TooLarge is the error for a file over the limit, for callers that learn the size before
// reading the content (a request's Content-Length).
func (s *Store) TooLarge(name string) error {
	return problem.New(problem.TooLarge, "file_too_large", "%q is larger than the limit of %s", SanitizeName(name), FormatSize(s.Limit()))
}

// Put stores content a channel received (no uploader). The caller attaches it with Attach once
// the message is stored. name and contentType are the sender's; both are checked.
func (s *Store) Put(ctx context.Context, name, contentType string, r io.Reader) (*store.File, error) {
	return s.put(ctx, nil, name, contentType, r)
}

// Upload stores a file an agent uploaded. It is theirs alone until Attach puts it on a
// conversation. An empty file is refused: it is always a mistake in the composer.
func (s *Store) Upload(ctx context.Context, uploaderID int64, name, contentType string, r io.Reader) (*store.File, error) {
	return s.put(ctx, &uploaderID, name, contentType, r)
}

func (s *Store) put(ctx context.Context, uploaderID *int64, name, declared string, r io.Reader) (*store.File, error) {
	name = SanitizeName(name)
	tmpDir := filepath.Join(s.Dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	tmp, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	limit := s.Limit()
	h := sha256.New()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, s.readErr(name, err)
	}
	head = head[:n]
	if uploaderID != nil && n == 0 {
		return nil, problem.Invalidf("file_empty", "%q is empty", name)
	}
	contentType, err := decideType(name, declared, sniff(head))
	if err != nil {
		return nil, err
	}
	size, err := copyLimited(io.MultiWriter(tmp, h), io.MultiReader(bytes.NewReader(head), r), limit)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, s.TooLarge(name)
		}
		return nil, s.readErr(name, err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("files: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("files: close: %w", err)
	}

	f := &store.File{ID: newID(), UploaderID: uploaderID, Name: name, ContentType: contentType, Size: size,
		SHA256: hex.EncodeToString(h.Sum(nil)), CreatedAt: store.Now()}
	f.StorageKey = f.ID[:2] + "/" + f.ID
	final := filepath.Join(s.Dir, filepath.FromSlash(f.StorageKey))
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	done = true
	syncDir(filepath.Dir(final))
	err = s.DB.InTx(ctx, func(tx *store.Tx) error { return tx.InsertFile(ctx, f) })
	if err != nil {
		os.Remove(final)
		return nil, err
	}
	return f, nil
}

var errTooLarge = errors.New("too large")

// copyLimited copies r to w and fails with errTooLarge as soon as more than limit bytes came.
func copyLimited(w io.Writer, r io.Reader, limit int64) (int64, error) {
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if err != nil {
		return n, err
	}
	if n > limit {
		return n, errTooLarge
	}
	return n, nil
}

// readErr turns a failure to read the upload into what the sender should hear: a request
// body cut off at the web server's own limit is still "too large".
func (s *Store) readErr(name string, err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return s.TooLarge(name)
	}
	return problem.Invalidf("file_unreadable", "%q could not be read: %v", name, err)
}

// syncDir makes a rename durable. Not every system can sync a directory; the rename is done
// either way, so a failure only loses durability on a crash, not correctness.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns 26 random lower-case base32 characters (130 bits).
func newID() string {
	b := make([]byte, 17)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return idEncoding.EncodeToString(b)[:26]
}

// validID reports whether id could be one of ours, so junk never reaches the database or disk.
func validID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// File returns a file's metadata, or a problem not-found error.
func (s *Store) File(ctx context.Context, id string) (*store.File, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	f, err := s.DB.File(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound
	}
	return f, err
}

var errNotFound = problem.NotFoundf("file_not_found", "no such file")

// Open opens a file's content. The caller closes it.
func (s *Store) Open(f *store.File) (*os.File, error) {
	rel := filepath.FromSlash(f.StorageKey)
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("files: storage key %q leaves the directory", f.StorageKey)
	}
	c, err := os.Open(filepath.Join(s.Dir, rel))
	if err != nil {
		return nil, fmt.Errorf("files: open %s: %w", f.ID, err)
	}
	return c, nil
}

// Attach puts files on a conversation, for a message that carries them, and returns them in
// the order given. uploaderID says whose files they must be: an agent's id for uploads, 0 for
// files a channel received (Put). A file that is not the uploader's is not found; one already
// on another conversation is a conflict. Attaching a file again to the same conversation is
// fine (a retried send).
func (s *Store) Attach(ctx context.Context, uploaderID, conversationID int64, ids []string) ([]*store.File, error) {
	out := make([]*store.File, 0, len(ids))
	now := store.Now()
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		for _, id := range ids {
			if !validID(id) {
				return attachmentNotFound(id)
			}
			f, err := tx.File(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return attachmentNotFound(id)
			} else if err != nil {
				return err
			}
			mine := f.UploaderID == nil && uploaderID == 0 || f.UploaderID != nil && *f.UploaderID == uploaderID
			if !mine {
				return attachmentNotFound(id)
			}
			if f.Attached() && (f.ConversationID == nil || *f.ConversationID != conversationID) {
				return problem.Conflictf("attachment_in_use", "%q is attached to another conversation; upload it again", f.Name)
			}
			err = tx.AttachFile(ctx, id, conversationID, now)
			if errors.Is(err, store.ErrNotFound) {
				// Since it was read: swept, discarded or taken by another conversation.
				return problem.Conflictf("attachment_in_use", "%q is attached to another conversation or was removed; upload it again", f.Name)
			} else if err != nil {
				return err
			}
			f.ConversationID = &conversationID
			if f.AttachedAt == nil {
				f.AttachedAt = &now
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func attachmentNotFound(id string) error {
	if len(id) > 40 {
		id = id[:40] + "…"
	}
	return problem.NotFoundf("attachment_not_found", "no uploaded file %q; upload it again", id)
}

// Discard deletes an upload its uploader removed from the composer before sending it. Files a
// message carries stay; someone else's file is not found.
func (s *Store) Discard(ctx context.Context, uploaderID int64, id string) error {
	var f *store.File
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if !validID(id) {
			return attachmentNotFound(id)
		}
		f, err = tx.File(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && (f.UploaderID == nil || *f.UploaderID != uploaderID) {
			return attachmentNotFound(id)
		} else if err != nil {
			return err
		}
		if f.Attached() {
			return problem.Conflictf("attachment_in_use", "%q is already on a message", f.Name)
		}
		return tx.DeleteFile(ctx, id)
	})
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.Dir, filepath.FromSlash(f.StorageKey))); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log().Warn("files: remove content", "file", f.ID, "err", err)
	}
	return nil
}

// Attachment is one entry of a message's attachments JSON (inbox.ReplyInput.Attachments).
// Channels read name, content_type and size for their limits and fetch url.
type Attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// AttachmentsJSON describes files for a message, with signed URLs valid from now.
func (s *Store) AttachmentsJSON(ctx context.Context, files []*store.File, now time.Time) (json.RawMessage, error) {
	list := make([]Attachment, 0, len(files))
	for _, f := range files {
		u, err := s.SignedURL(ctx, f, now)
		if err != nil {
			return nil, err
		}
		list = append(list, Attachment{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size, URL: u})
	}
	return json.Marshal(list)
}

// Path is the download path of a file for a signed-in browser: /files/{id}/{name}.
func Path(f *store.File) string { return PathOf(f.ID, f.Name) }

// PathOf is Path from an id and a name, e.g. read back from a message's attachments JSON.
func PathOf(id, name string) string {
	return "/files/" + url.PathEscape(id) + "/" + url.PathEscape(name)
}

// Sweep deletes files nobody can reach: uploads never attached within a day, files of deleted
// conversations, and temporary files a crash left behind. It returns how many files it
// deleted. Several nodes sweeping at once is harmless.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	cutoff := now.Add(-unattachedTTL).UnixMilli()
	for {
		loose, err := s.DB.LooseFiles(ctx, cutoff, 100)
		if err != nil {
			return deleted, err
		}
		for _, f := range loose {
			// The row goes first: content without a row is invisible, a row without content
			// would be a broken download. The delete checks again that the file is loose: a
			// message may have attached it since the listing.
			var gone bool
			err := s.DB.InTx(ctx, func(tx *store.Tx) (err error) {
				gone, err = tx.DeleteLooseFile(ctx, f.ID, cutoff)
				return err
			})
			if err != nil {
				return deleted, err
			}
			if !gone {
				continue // attached meanwhile, or another node got it
			}
			if rel := filepath.FromSlash(f.StorageKey); filepath.IsLocal(rel) {
				if err := os.Remove(filepath.Join(s.Dir, rel)); err != nil && !errors.Is(err, os.ErrNotExist) {
					s.log().Warn("files: remove content", "file", f.ID, "err", err)
				}
			}
			deleted++
		}
		if len(loose) < 100 {
			break
		}
	}
	entries, err := os.ReadDir(filepath.Join(s.Dir, "tmp"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return deleted, fmt.Errorf("files: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && info.ModTime().Before(now.Add(-tmpTTL)) {
			_ = os.Remove(filepath.Join(s.Dir, "tmp", e.Name()))
		}
	}
	return deleted, nil
}

// FormatSize writes a size for people: 512 B, 1.5 KB, 25 MB (powers of 1024, one decimal
// below 10). The web app localises the decimal separator.
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KB", "MB", "GB", "TB"}
	v := float64(n) / unit
	i := 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	if v < 10 {
		return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + " " + units[i]
	}
	return fmt.Sprintf("%.0f %s", v, units[i])
}
