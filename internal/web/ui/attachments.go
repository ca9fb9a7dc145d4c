package ui

// Attachments: the composer uploads files (static/js/attachments.js: drag and drop, paste, the
// file picker) to POST /attachments, one request per file, and gets back a list item with a
// hidden input named "attachment"; sending the reply turns those ids into the message's
// attachments JSON (attachmentsJSON). Files are downloaded at /files/{id}/{name} by whoever
// may see their conversation, or with a signed link (package files explains the design).

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func init() {
	// The composer's drop zone is drawn by attachments.js, in the user's language.
	jsStrings = append(jsStrings, "attachments.add", "attachments.hint", "attachments.drop", "attachments.uploading",
		"attachments.too_large", "attachments.failed", "attachments.remove", "attachments.wait")
}

const (
	// maxAttachments is how many files one reply may carry (error.attachment_limit says it).
	maxAttachments = 20
	// maxFilesPerUpload bounds one upload request; the composer sends one file per request.
	maxFilesPerUpload = 10
	// uploadSlack is room for the multipart framing around the files in an upload request.
	uploadSlack = 64 << 10
)

func (s *Server) attachmentRoutes() []route {
	return []route{
		{pattern: "POST /attachments", handle: s.uploadAttachments},
		{pattern: "DELETE /attachments/{id}", handle: s.discardAttachment},
		// Public so signed links work without a session; download checks access itself.
		{pattern: "GET /files/{id}/{name}", handle: s.download, public: true},
	}
}

var errFilesOff = problem.New(problem.Unavailable, "attachments_unavailable", "file storage is not set up on this server")

// attachmentItem is one file in the composer's list.
type attachmentItem struct {
	ID, Name, Size, URL string
}

// uploadAttachments stores the files of a multipart request (field "file") and answers with
// one li.attachment per file for ul#composer-attachments. The request's size is checked before
// reading when the browser says it, and while reading otherwise, so a file over the limit is
// refused without being stored.
func (s *Server) uploadAttachments(w http.ResponseWriter, r *http.Request) error {
	if s.Files == nil {
		return errFilesOff
	}
	pg := s.page(r, "", "inbox")
	limit := s.Files.Limit()
	if r.ContentLength > limit+uploadSlack {
		return &problem.Error{Kind: problem.TooLarge, Code: "file_too_large",
			Detail: pg.T("attachments.request_too_large", localSize(pg, limit))}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+uploadSlack)
	// The server's read timeout suits forms, not 25 MB from a slow connection.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(15 * time.Minute))
	mr, err := r.MultipartReader()
	if err != nil {
		return problem.Field("invalid_upload", "file", "send the files as multipart/form-data")
	}
	u := user(r)
	var items []attachmentItem
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return &problem.Error{Kind: problem.TooLarge, Code: "file_too_large",
					Detail: pg.T("attachments.request_too_large", localSize(pg, limit))}
			}
			return problem.Field("invalid_upload", "file", "the upload could not be read")
		}
		if part.FormName() != "file" || part.FileName() == "" {
			part.Close()
			continue
		}
		if len(items) == maxFilesPerUpload {
			return problem.Field("too_many_files", "file", "send at most 10 files at once")
		}
		f, err := s.Files.Upload(r.Context(), u.ID, part.FileName(), part.Header.Get("Content-Type"), part)
		part.Close()
		if err != nil {
			return uploadRefusal(pg, files.SanitizeName(part.FileName()), limit, err)
		}
		items = append(items, attachmentItem{ID: f.ID, Name: f.Name, Size: localSize(pg, f.Size), URL: files.Path(f)})
	}
	if len(items) == 0 {
		return problem.Field("no_files", "file", "choose at least one file")
	}
	return s.renderBlock(w, http.StatusOK, "error", "attachment-items", map[string]any{"Page": pg, "Items": items})
}

// uploadRefusal words a refused file in the user's language, naming the file: the toast or
// the composer's list shows it as it is.
func uploadRefusal(pg *Page, name string, limit int64, err error) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	var msg string
	switch p.Code {
	case "file_too_large":
		msg = pg.T("attachments.too_large", name, localSize(pg, limit))
	case "file_type_mismatch":
		msg = pg.T("attachments.type_mismatch", name)
	case "file_empty":
		msg = pg.T("attachments.empty", name)
	default:
		return err
	}
	return &problem.Error{Kind: p.Kind, Code: p.Code, Detail: msg, Fields: p.Fields}
}

// discardAttachment deletes an upload the agent removed from the composer, at once rather
// than at the next sweep.
func (s *Server) discardAttachment(w http.ResponseWriter, r *http.Request) error {
	if s.Files == nil {
		return errFilesOff
	}
	if err := s.Files.Discard(r.Context(), user(r).ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// download serves a file: with a valid signed link to anyone (channels fetching an outbound
// attachment), otherwise to a signed-in user who may see the file's conversation, or to its
// uploader while no message carries it yet. Everyone else gets the same not-found as for a
// file that does not exist.
func (s *Server) download(w http.ResponseWriter, r *http.Request) error {
	if s.Files == nil {
		return errFilesOff
	}
	id := r.PathValue("id")
	q := r.URL.Query()
	u := user(r)
	if q.Has("sig") {
		err := s.Files.CheckSignature(r.Context(), id, q.Get("expires"), q.Get("sig"), time.Now())
		if err == nil {
			f, err := s.Files.File(r.Context(), id)
			if err != nil {
				return err
			}
			return s.Files.Serve(w, r, f)
		}
		if u == nil {
			return err
		}
		// A signed-in user with a stale link falls back to their own access.
	}
	if u == nil {
		s.toSignIn(w, r)
		return nil
	}
	f, err := s.Files.File(r.Context(), id)
	if err != nil {
		return err
	}
	if !s.mayDownload(r, u, f) {
		return problem.NotFoundf("file_not_found", "no such file")
	}
	return s.Files.Serve(w, r, f)
}

func (s *Server) mayDownload(r *http.Request, u *store.User, f *store.File) bool {
	if f.ConversationID != nil {
		_, err := s.Inbox.Conversation(r.Context(), u, *f.ConversationID)
		return err == nil
	}
	return !f.Attached() && f.UploaderID != nil && *f.UploaderID == u.ID
}

// attachmentsJSON turns the composer's attachment ids into the JSON a reply stores: the
// files must be the current user's uploads, not on another conversation, and the user must
// see the conversation in the request's path (/conversations/{id}/…), which they are then
// attached to. Each entry has id, name, content_type, size and an absolute signed url that
// channels and webhook consumers can fetch without a session.
func (s *Server) attachmentsJSON(r *http.Request, ids []string) (json.RawMessage, error) {
	seen := make(map[string]bool, len(ids))
	var list []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			list = append(list, id)
		}
	}
	if len(list) == 0 {
		return json.RawMessage("[]"), nil
	}
	if s.Files == nil {
		return nil, errFilesOff
	}
	if len(list) > maxAttachments {
		return nil, problem.Field("attachment_limit", "attachment", "a reply can carry at most 20 files")
	}
	convID, err := pathID(r)
	if err != nil {
		return nil, err
	}
	u := user(r)
	if _, err := s.Inbox.Conversation(r.Context(), u, convID); err != nil {
		return nil, err
	}
	attached, err := s.Files.Attach(r.Context(), u.ID, convID, list)
	if err != nil {
		return nil, err
	}
	return s.Files.AttachmentsJSON(r.Context(), attached, time.Now())
}

// fileLink is where the timeline links a message's attachment: our own files by their
// session download path (a stored signed URL expires), anything else by its URL.
func fileLink(id, name, storedURL string) string {
	if id != "" && name != "" && strings.Contains(storedURL, files.PathOf(id, name)) {
		return files.PathOf(id, name)
	}
	return storedURL
}

// localSize is a file size in the page's language: 1.5 MB, or 1,5 MB in the Nordic languages.
func localSize(pg *Page, n int64) string {
	s := files.FormatSize(n)
	if pg.Lang != nil && pg.Lang.Code != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
