package chat

// Visitors' files (CHAT-7): the widget uploads one file per request to
//
//	POST /widget/v1/{public_id}/files                  multipart/form-data, field "file"
//
// with the visitor token in "Authorization: Bearer <token>", from an allowed origin, and gets
// back {"id": handle, "name", "content_type", "size"}. A message frame then names the handles
// in "files"; the message is stored with them as its attachments and the files are put on the
// conversation in the same transaction (inbox.Inbound.Stored), so a file is on a conversation
// exactly when a stored message carries it.
//
// A handle is the file's id and a MAC of the id and the visitor id under the channel's identity
// secret: only the visitor who uploaded a file can send it, with nothing kept per upload beyond
// the files row itself (an upload that is never sent is a loose file, swept after a day).
//
// The visitor downloads the files of their own conversation — theirs and the agents' — at
//
//	GET /widget/v1/{public_id}/files/{id}/{name}        Authorization: Bearer <token>
//
// which the widget fetches into a blob for thumbnails and downloads: a signed link would stop
// working after its lifetime, while a conversation is read back for as long as it exists.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Limits of visitors' files. A chat is not a file transfer service: 10 MB fits photos of a
// problem, screenshots and documents, and keeps a site's visitors from filling the disk fast.
const (
	MaxVisitorFile     = 10 << 20
	maxFilesPerMessage = 10
	// uploadSlack is room for the multipart framing around the file.
	uploadSlack = 16 << 10
	// handleMAC is the length of a handle's MAC in base64url characters (16 bytes).
	handleMAC = 22
)

// Codes of the file endpoints, shared with other channels' attachment checks.
const (
	CodeAttachmentTooLarge   = "attachment_too_large"
	CodeAttachmentType       = "attachment_type_not_allowed"
	CodeTooManyAttachments   = "too_many_attachments"
	CodeInvalidAttachment    = "invalid_attachment"
	CodeFileNotFound         = "file_not_found"
	codeChatFilesUnavailable = "chat_unavailable"
)

// VisitorFile is the upload endpoint's answer.
type VisitorFile struct {
	// ID is the handle a message frame names the file by.
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// allowedUpload says whether a visitor may send a file with this name and these first bytes.
// Visitors are strangers: the list is what a support chat needs — pictures, PDFs, plain text
// and office documents — judged by the bytes (http.DetectContentType), the name only telling
// apart the formats whose bytes look alike (text, and the zip-based office formats). Anything
// that runs when opened (HTML, SVG, scripts, executables, macro-enabled documents) is refused.
func allowedUpload(name string, head []byte) bool {
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	ext := strings.ToLower(path.Ext(name))
	switch sniffed {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf":
		return true
	case "text/plain":
		switch ext {
		case ".txt", ".csv", ".log", ".md", ".json":
			return true
		}
	case "application/zip":
		switch ext {
		case ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp":
			return true
		}
	}
	return false
}

// fileHandle is the id a visitor's message names an upload by.
func fileHandle(secret string, visitorID int64, fileID string) string {
	return fileID + "." + handleMac(secret, visitorID, fileID)
}

func handleMac(secret string, visitorID int64, fileID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "parley-chat-file\n%d\n%s", visitorID, fileID)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:handleMAC]
}

// openHandle returns the file id of a handle the visitor was given, or ok false.
func openHandle(secret string, visitorID int64, handle string) (string, bool) {
	id, sum, ok := strings.Cut(handle, ".")
	if !ok || id == "" || len(sum) != handleMAC {
		return "", false
	}
	return id, hmac.Equal([]byte(sum), []byte(handleMac(secret, visitorID, id)))
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// visitorRequest authenticates a request of the file endpoints: a live widget, an allowed
// origin (which may then read the answer) and the visitor's token.
func (s *Service) visitorRequest(w http.ResponseWriter, r *http.Request) (*widget, *store.ChatVisitor, error) {
	wd, err := s.widgetByPublicID(r.Context(), r.PathValue("public_id"))
	if err != nil {
		return nil, nil, err
	}
	origin := r.Header.Get("Origin")
	allowCORS(w, wd, origin)
	if err := wd.checkOrigin(origin); err != nil {
		return nil, nil, err
	}
	if s.Files == nil {
		return nil, nil, problem.New(problem.Unavailable, codeChatFilesUnavailable, "file storage is not set up on this server")
	}
	v, err := s.visitorByToken(r.Context(), wd, bearer(r))
	if err != nil {
		return nil, nil, err
	}
	return wd, v, nil
}

func tooLarge(name string) error {
	return problem.New(problem.TooLarge, CodeAttachmentTooLarge, "%q is larger than the limit of %s", files.SanitizeName(name),
		files.FormatSize(MaxVisitorFile))
}

// uploadFile stores one file a visitor sends.
func (s *Service) uploadFile(w http.ResponseWriter, r *http.Request) {
	wd, v, err := s.visitorRequest(w, r)
	if err != nil {
		writeProblem(w, err)
		return
	}
	limit := min(int64(MaxVisitorFile), s.Files.Limit())
	if r.ContentLength > limit+uploadSlack {
		writeProblem(w, tooLarge("the file"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+uploadSlack)
	// A phone on a slow network takes a while over 10 MB.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Minute))
	f, err := s.storeUpload(r, limit)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			s.log().Warn("chat: store a visitor's file", "visitor_id", v.ID, "err", err)
		}
		writeProblem(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(VisitorFile{ID: fileHandle(wd.cc.IdentitySecret, v.ID, f.ID), Name: f.Name,
		ContentType: f.ContentType, Size: f.Size})
}

// storeUpload reads the request's first "file" part and stores it if it is allowed.
func (s *Service) storeUpload(r *http.Request, limit int64) (*store.File, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, problem.Field(CodeInvalidAttachment, "file", "send the file as multipart/form-data")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, problem.Field(CodeInvalidAttachment, "file", "choose a file")
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, tooLarge("the file")
			}
			return nil, problem.Field(CodeInvalidAttachment, "file", "the upload could not be read")
		}
		if part.FormName() != "file" || part.FileName() == "" {
			part.Close()
			continue
		}
		defer part.Close()
		name := part.FileName()
		head := make([]byte, 512)
		n, err := io.ReadFull(part, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, tooLarge(name)
			}
			return nil, problem.Field(CodeInvalidAttachment, "file", "the upload could not be read")
		}
		head = head[:n]
		if n == 0 {
			return nil, problem.Field(CodeInvalidAttachment, "file", "the file is empty")
		}
		if !allowedUpload(name, head) {
			return nil, problem.New(problem.Invalid, CodeAttachmentType,
				"%q is not a type the chat accepts: send a picture, a PDF, a text file or an office document", files.SanitizeName(name))
		}
		body := &capped{r: io.MultiReader(bytes.NewReader(head), part), left: limit}
		f, err := s.Files.Put(r.Context(), name, part.Header.Get("Content-Type"), body)
		if body.over {
			return nil, tooLarge(name)
		}
		if p, ok := problem.As(err); ok {
			switch p.Code {
			case "file_too_large":
				return nil, tooLarge(name)
			case "file_type_mismatch":
				return nil, problem.New(problem.Invalid, CodeAttachmentType, "%s", p.Detail)
			}
		}
		return f, err
	}
}

// capped reads at most left bytes and fails after, so a file over the chat's own limit (below
// the file store's) is refused while reading rather than stored in full.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One more byte says whether there is more.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.over = true
			return 0, errors.New("over the chat's file size limit")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// downloadFile serves a file of the visitor's own conversation.
func (s *Service) downloadFile(w http.ResponseWriter, r *http.Request) {
	wd, v, err := s.visitorRequest(w, r)
	if err != nil {
		writeProblem(w, err)
		return
	}
	notFound := problem.NotFoundf(CodeFileNotFound, "no such file in your conversation")
	f, err := s.Files.File(r.Context(), r.PathValue("id"))
	if err != nil {
		if p, ok := problem.As(err); ok && p.Kind == problem.NotFound {
			err = notFound
		}
		writeProblem(w, err)
		return
	}
	conv, err := s.Store.ChatConversation(r.Context(), wd.ch.ID, v.ThreadKey())
	if errors.Is(err, store.ErrNotFound) || err == nil && (f.ConversationID == nil || *f.ConversationID != conv.ID) {
		writeProblem(w, notFound)
		return
	} else if err != nil {
		writeProblem(w, err)
		return
	}
	// The page embedding the widget reads it (CORS above); Serve's headers keep it inert.
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	if err := s.Files.Serve(w, r, f); err != nil {
		writeProblem(w, err)
	}
}

// withFiles puts the visitor's uploads named by handles on the inbound message: its
// attachments JSON, and the files attached to the conversation in the receive transaction.
func (sess *session) withFiles(ctx context.Context, in *inbox.Inbound, handles []string) error {
	s := sess.svc
	if len(handles) == 0 {
		return nil
	}
	if s.Files == nil {
		return problem.New(problem.Unavailable, codeChatFilesUnavailable, "file storage is not set up on this server")
	}
	list := make([]*store.File, 0, len(handles))
	seen := map[string]bool{}
	for i, h := range handles {
		id, ok := openHandle(sess.w.cc.IdentitySecret, sess.visitor.ID, h)
		if !ok {
			return problem.Field(CodeInvalidAttachment, "files["+strconv.Itoa(i)+"]", "is not a file you uploaded; upload it again")
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		f, err := s.Files.File(ctx, id)
		if err != nil {
			if _, ok := problem.As(err); ok {
				return problem.Field(CodeInvalidAttachment, "files["+strconv.Itoa(i)+"]", "is not a file you uploaded; upload it again")
			}
			return err
		}
		list = append(list, f)
	}
	raw, err := s.Files.AttachmentsJSON(ctx, list, s.now())
	if err != nil {
		return err
	}
	in.Attachments = raw
	stored := in.Stored
	in.Stored = func(ctx context.Context, tx *store.Tx, msg *store.Message, conv *store.Conversation) error {
		if stored != nil {
			if err := stored(ctx, tx, msg, conv); err != nil {
				return err
			}
		}
		now := store.Now()
		for _, f := range list {
			err := tx.AttachFile(ctx, f.ID, conv.ID, now)
			if errors.Is(err, store.ErrNotFound) {
				// On another conversation (a visitor with two conversations cannot have that;
				// a swept upload can).
				return problem.Conflictf(CodeInvalidAttachment, "%q is no longer available; upload it again", f.Name)
			} else if err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// fileJSON is one file of a message as the visitor sees it: the widget downloads it from the
// file endpoint by id; url is the signed link the message was stored with.
type fileJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url,omitempty"`
}

// messageFiles reads a message's attachments JSON for the visitor; entries without a file of
// ours (an id) are left out, since the visitor could not fetch them.
func messageFiles(raw json.RawMessage) []fileJSON {
	if len(raw) < 3 {
		return nil
	}
	var list []fileJSON
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil
	}
	out := list[:0]
	for _, f := range list {
		if f.ID != "" && f.Name != "" {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
