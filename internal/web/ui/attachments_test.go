package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// withFiles gives the harness's web app a file store in a temporary directory.
func withFiles(t *testing.T, h *harness) *files.Store {
	fs := files.New(h.Store, filepath.Join(t.TempDir(), "files"), h.UI.BaseURL)
	h.UI.Files = fs
	return fs
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"),
	bytes.Repeat([]byte{1}, 3000)...)

// upload posts one file as the composer's script does (multipart, htmx's request header, so
// errors come back as a toast).
func (c *client) upload(t *testing.T, name, contentType string, content []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	if contentType != "" {
		hdr.Set("Content-Type", contentType)
	}
	pw, err := mw.CreatePart(hdr)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(content)
	mw.Close()
	return c.doBody(t, "POST", "/attachments", http.Header{"Content-Type": {mw.FormDataContentType()},
		"Hx-Request": {"true"}}, &body)
}

// doBody is client.do with a raw body.
func (c *client) doBody(t *testing.T, method, path string, header http.Header, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.h.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b)}
}

var itemID = regexp.MustCompile(`<li class="attachment" data-id="([a-z2-7]{26})"`)

// uploaded returns the id in an upload's answer, checking the fragment's shape.
func uploaded(t *testing.T, res response) string {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("upload: status %d\n%s", res.StatusCode, res.Body)
	}
	m := itemID.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("no attachment item in\n%s", res.Body)
	}
	mustContain(t, res.Body, `<input type="hidden" name="attachment" value="`+m[1]+`">`, "data-attachment-remove", `aria-label="Remove `)
	return m[1]
}

// attachAs calls attachmentsJSON as the reply handler does for u on conversation convID.
func (h *harness) attachAs(u *store.User, convID int64, ids ...string) (json.RawMessage, error) {
	r := httptest.NewRequest("POST", "/conversations/"+itoa(convID)+"/send", nil)
	r.SetPathValue("id", itoa(convID))
	r = r.WithContext(context.WithValue(r.Context(), userKey, u))
	return h.UI.attachmentsJSON(r, ids)
}

func code(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Code
	}
	return ""
}

func TestAttachmentUploadAndDownload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		withFiles(t, h)
		_, conv := h.receive(t, "t1", "Cleo Customer", "Here is my question")
		_, conv2 := h.receive(t, "t2", "Dan Customer", "Another question")
		agent, admin, outsider := h.signIn(t, h.agent), h.signIn(t, h.admin), h.signIn(t, h.outside)
		anonymous := h.newClient(t)

		res := agent.upload(t, `C:\fakepath\screen shot.png`, "image/png", pngBytes)
		id := uploaded(t, res)
		mustContain(t, res.Body, ">screen shot.png</a>", " · 3 KB")
		path := "/files/" + id + "/screen%20shot.png"

		// Before it is sent: the uploader only.
		dl := agent.do(t, "GET", path, nil, nil)
		if dl.StatusCode != 200 || dl.Body != string(pngBytes) {
			t.Fatalf("uploader download: %d %q", dl.StatusCode, dl.Body[:min(len(dl.Body), 100)])
		}
		for k, want := range map[string]string{
			"Content-Type":           "image/png",
			"Content-Disposition":    `inline; filename="screen shot.png"`,
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "private, max-age=86400",
		} {
			if got := dl.Header.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		if csp := dl.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") {
			t.Errorf("CSP %q lacks sandbox", csp)
		}
		if dl.Header.Get("ETag") == "" {
			t.Error("no ETag")
		}
		admin.get(t, path, 404)
		outsider.get(t, path, 404)
		if res := anonymous.do(t, "GET", path, nil, nil); res.StatusCode != http.StatusSeeOther ||
			!strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous: %d %s", res.StatusCode, res.Header.Get("Location"))
		}

		// Someone else's upload cannot be attached, nor can a conversation one cannot see.
		if _, err := h.attachAs(h.admin, conv.ID, id); code(err) != "attachment_not_found" {
			t.Fatalf("someone else's file: %v", err)
		}
		if _, err := h.attachAs(h.outside, conv.ID, id); err == nil {
			t.Fatal("attached on a conversation the user cannot see")
		}
		if raw, err := h.attachAs(h.agent, conv.ID); err != nil || string(raw) != "[]" {
			t.Fatalf("no ids: %s %v", raw, err)
		}

		raw, err := h.attachAs(h.agent, conv.ID, id, id)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
			t.Fatalf("attachments json %s: %v", raw, err)
		}
		a := list[0]
		signed, _ := a["url"].(string)
		if a["id"] != id || a["name"] != "screen shot.png" || a["content_type"] != "image/png" || a["size"] != float64(len(pngBytes)) ||
			!strings.HasPrefix(signed, "http://parley.test"+path+"?expires=") {
			t.Fatalf("attachment: %v", a)
		}
		if _, err := h.attachAs(h.agent, conv2.ID, id); code(err) != "attachment_in_use" {
			t.Fatalf("attached elsewhere: %v", err)
		}

		// Once on a conversation: whoever sees it.
		admin.get(t, path, 200)
		agent.get(t, path, 200)
		outsider.get(t, path, 404)
		if fileLink(id, "screen shot.png", signed) != path {
			t.Fatalf("timeline link %q", fileLink(id, "screen shot.png", signed))
		}

		// The signed URL works without a session, and fails when tampered with or expired.
		u, _ := url.Parse(signed)
		if res := anonymous.do(t, "GET", u.RequestURI(), nil, nil); res.StatusCode != 200 || res.Body != string(pngBytes) {
			t.Fatalf("signed download: %d", res.StatusCode)
		}
		q := u.Query()
		q.Set("expires", itoa(time.Now().Add(365*24*time.Hour).Unix()))
		res = anonymous.do(t, "GET", u.Path+"?"+q.Encode(), nil, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("tampered expiry: %d", res.StatusCode)
		}
		mustContain(t, res.Body, "This download link is not valid.")
		other := agent.upload(t, "other.txt", "text/plain", []byte("secret"))
		otherID := uploaded(t, other)
		if res := anonymous.do(t, "GET", strings.Replace(u.RequestURI(), id, otherID, 1), nil, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("signature of another file: %d", res.StatusCode)
		}
		f, err := h.UI.Files.File(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		old, err := h.UI.Files.SignedURL(t.Context(), f, time.Now().Add(-files.DefaultLinkTTL-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		u, _ = url.Parse(old)
		res = anonymous.do(t, "GET", u.RequestURI(), nil, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("expired link: %d", res.StatusCode)
		}
		mustContain(t, res.Body, "This download link has expired.")
		// A signed-in user who may see the file still gets it from a stale link.
		agent.get(t, u.RequestURI(), 200)

		// Removing an upload from the composer deletes it; only the uploader may.
		if res := outsider.do(t, "DELETE", "/attachments/"+otherID, nil, nil); res.StatusCode != 404 {
			t.Fatalf("outsider discards: %d", res.StatusCode)
		}
		if res := agent.do(t, "DELETE", "/attachments/"+otherID, nil, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("discard: %d %s", res.StatusCode, res.Body)
		}
		agent.get(t, "/files/"+otherID+"/other.txt", 404)
		if res := agent.do(t, "DELETE", "/attachments/"+id, nil, nil); res.StatusCode != http.StatusConflict {
			t.Fatalf("discard a sent file: %d", res.StatusCode)
		}
	})
}

func TestAttachmentRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		fs := withFiles(t, h)
		agent := h.signIn(t, h.agent)

		// HTML is stored but only ever downloaded, in a sandbox.
		id := uploaded(t, agent.upload(t, "page.html", "text/html", []byte("<html><script>alert(document.cookie)</script>")))
		dl := agent.do(t, "GET", "/files/"+id+"/page.html", nil, nil)
		if dl.StatusCode != 200 || !strings.HasPrefix(dl.Header.Get("Content-Type"), "text/html") ||
			dl.Header.Get("Content-Disposition") != `attachment; filename=page.html` ||
			!strings.HasPrefix(dl.Header.Get("Content-Security-Policy"), "sandbox;") ||
			dl.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("html download: %d %v", dl.StatusCode, dl.Header)
		}

		// HTML pretending to be an image is refused.
		res := agent.upload(t, "cat.png", "image/png", []byte("<html><script>alert(1)</script>"))
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Hx-Retarget") != "#toasts" {
			t.Fatalf("mismatch: %d %v", res.StatusCode, res.Header)
		}
		mustContain(t, res.Body, "cat.png is not the kind of file it claims to be")

		// Too large, found while reading…
		fs.MaxSize = 1000
		res = agent.upload(t, "big.bin", "application/octet-stream", make([]byte, 2000))
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("too large: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, "big.bin is larger than the limit of 1000 B.")
		// … and before reading, from the request's length.
		res = agent.upload(t, "huge.bin", "", make([]byte, 200_000))
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("far too large: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, "The file is larger than the limit of 1000 B.")
		// In the user's language.
		sv, err := h.WS.CreateUser(t.Context(), nil, workspace.NewUser{Email: "sven@example.com", Name: "Sven",
			Role: "agent", Locale: "sv", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		res = h.signIn(t, sv).upload(t, "stor.bin", "", make([]byte, 2000))
		mustContain(t, res.Body, "stor.bin är större än gränsen på 1000 B.")
		fs.MaxSize = 0

		if res := agent.upload(t, "empty.txt", "text/plain", nil); res.StatusCode != 400 {
			t.Fatalf("empty file: %d", res.StatusCode)
		}
		// Not multipart at all.
		if res := agent.do(t, "POST", "/attachments", url.Values{"file": {"x"}}, nil); res.StatusCode != 400 {
			t.Fatalf("a plain form: %d", res.StatusCode)
		}
		// Without a session: to the sign-in page, nothing stored.
		if res := h.newClient(t).upload(t, "x.txt", "text/plain", []byte("x")); res.StatusCode == 200 {
			t.Fatal("anonymous upload accepted")
		}
		// Without a file store the feature is off, clearly.
		h.UI.Files = nil
		if res := agent.upload(t, "x.txt", "text/plain", []byte("x")); res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("no file store: %d", res.StatusCode)
		}
	})
}
