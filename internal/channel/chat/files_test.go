package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts one file to the visitor file endpoint and returns the status and the answer.
func (f *fixture) upload(origin, token, name, contentType string, content []byte) (int, map[string]any) {
	f.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename=%q`, name)}
	h["Content-Type"] = []string{contentType}
	part, _ := mw.CreatePart(h)
	part.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// download fetches a file of the visitor's conversation.
func (f *fixture) download(token, id string) (int, []byte, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/files/"+id+"/x", nil)
	req.Header.Set("Origin", site)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

type fileFrame struct {
	Type      string `json:"type"`
	ClientID  string `json:"client_id"`
	MessageID int64  `json:"message_id"`
	Code      string `json:"code"`
	Message   struct {
		ID    int64  `json:"id"`
		From  string `json:"from"`
		Text  string `json:"text"`
		Files []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
			URL         string `json:"url"`
		} `json:"files"`
	} `json:"message"`
}

func readFileFrame(t *testing.T, ws *websocket.Conn, typ string) fileFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		var fr fileFrame
		if err := json.Unmarshal(data, &fr); err != nil {
			t.Fatal(err)
		}
		if fr.Type == typ || fr.Type == "error" && typ != "error" {
			if fr.Type != typ {
				t.Fatalf("waiting for %s got %s", typ, data)
			}
			return fr
		}
	}
}

func TestVisitorFiles(t *testing.T) {
	f := newFixture(t)
	f.chat.Files = files.New(f.s, t.TempDir(), "https://parley.example")
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	_, other, _ := f.session(site, map[string]any{"page_url": site + "/"})
	img := pngBytes(t)

	// Refusals: no token, a site not allowed, a type that runs, an empty file, one too large.
	if code, out := f.upload(site, "", "a.png", "image/png", img); code != 401 || out["code"] != chat.CodeInvalidVisitorTok {
		t.Fatalf("without a token: %d %v", code, out)
	}
	if code, out := f.upload("https://evil.example", sess.Token, "a.png", "image/png", img); code != 403 || out["code"] != chat.CodeOriginNotAllowed {
		t.Fatalf("another site: %d %v", code, out)
	}
	for _, c := range []struct{ name, ct, body string }{
		{"page.html", "text/html", "<!doctype html><script>alert(1)</script>"},
		{"a.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`},
		{"run.exe", "application/octet-stream", "MZ\x90\x00\x03\x00\x00\x00"},
		{"fake.png", "image/png", "just text pretending"},
		{"macro.docm", "application/zip", "PK\x03\x04rest of a zip"},
	} {
		if code, out := f.upload(site, sess.Token, c.name, c.ct, []byte(c.body)); code != 400 || out["code"] != chat.CodeAttachmentType {
			t.Errorf("%s: %d %v", c.name, code, out)
		}
	}
	if code, out := f.upload(site, sess.Token, "empty.txt", "text/plain", nil); code != 400 || out["code"] != chat.CodeInvalidAttachment {
		t.Errorf("empty: %d %v", code, out)
	}
	big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), chat.MaxVisitorFile)...)
	if code, out := f.upload(site, sess.Token, "big.pdf", "application/pdf", big); code != 413 || out["code"] != chat.CodeAttachmentTooLarge {
		t.Errorf("too large: %d %v", code, out)
	}

	// The preflight lets the site send the token.
	req, _ := http.NewRequest("OPTIONS", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/files", nil)
	req.Header.Set("Origin", site)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != site || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight %d %v", res.StatusCode, res.Header)
	}

	code, up := f.upload(site, sess.Token, "screen shot.png", "image/png", img)
	if code != 201 || up["name"] != "screen shot.png" || up["content_type"] != "image/png" || up["size"] != float64(len(img)) {
		t.Fatalf("upload: %d %v", code, up)
	}
	handle := up["id"].(string)
	_, doc := f.upload(site, sess.Token, "notes.txt", "text/plain", []byte("order 1234\n"))

	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readFileFrame(t, ws, "ready")

	// Another visitor cannot send the first one's upload.
	ows, _, err := f.dial(site, other.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readFileFrame(t, ows, "ready")
	send(t, ows, map[string]any{"type": "message", "client_id": "x-1", "text": "", "files": []string{handle}})
	if e := readFileFrame(t, ows, "error"); e.Code != chat.CodeInvalidAttachment || e.ClientID != "x-1" {
		t.Fatalf("someone else's file: %+v", e)
	}

	// A message of files alone: stored with them, echoed with them.
	send(t, ws, map[string]any{"type": "message", "client_id": "c-1", "text": "", "files": []string{handle, doc["id"].(string)}})
	ack := readFileFrame(t, ws, "ack")
	echo := readFileFrame(t, ws, "message")
	if echo.Message.ID != ack.MessageID || len(echo.Message.Files) != 2 || echo.Message.Files[0].Name != "screen shot.png" ||
		echo.Message.Files[1].ContentType != "text/plain; charset=utf-8" {
		t.Fatalf("echo %+v", echo)
	}
	fileID := echo.Message.Files[0].ID
	msg, err := f.s.Message(f.ctx, ack.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.s.File(f.ctx, fileID)
	if err != nil || stored.ConversationID == nil || *stored.ConversationID != msg.ConversationID || !strings.Contains(string(msg.Attachments), fileID) {
		t.Fatalf("stored file %+v (%v), attachments %s", stored, err, msg.Attachments)
	}

	// The visitor downloads it with their token; another visitor cannot.
	code, body, hdr := f.download(sess.Token, fileID)
	if code != 200 || !bytes.Equal(body, img) || hdr.Get("Access-Control-Allow-Origin") != site || hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: %d, %d bytes, %v", code, len(body), hdr)
	}
	if code, _, _ := f.download(other.Token, fileID); code != 404 {
		t.Fatalf("another visitor's download: %d", code)
	}

	// An agent's attachment reaches the visitor, who may download it.
	agentFile, err := f.chat.Files.Upload(f.ctx, f.agent.ID, "invoice.pdf", "application/pdf", strings.NewReader("%PDF-1.4\n%%EOF\n"))
	if err != nil {
		t.Fatal(err)
	}
	attached, err := f.chat.Files.Attach(f.ctx, f.agent.ID, msg.ConversationID, []string{agentFile.ID})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.chat.Files.AttachmentsJSON(f.ctx, attached, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reply, err := f.inbox.Reply(f.ctx, f.agent, msg.ConversationID, inbox.ReplyInput{Text: "Here it is", Attachments: raw})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.inbox.Deliver(f.ctx, &store.Job{ID: 1, Attempts: 1, MaxAttempts: 5, Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, reply.ID))}); err != nil {
		t.Fatal(err)
	}
	got := readFileFrame(t, ws, "message")
	if got.Message.From != "agent" || len(got.Message.Files) != 1 || got.Message.Files[0].ID != agentFile.ID || got.Message.Files[0].Name != "invoice.pdf" {
		t.Fatalf("agent's files %+v", got.Message)
	}
	if code, body, _ := f.download(sess.Token, agentFile.ID); code != 200 || !strings.HasPrefix(string(body), "%PDF") {
		t.Fatalf("agent's file download: %d", code)
	}

	// A forged or mangled handle is refused before anything is stored.
	send(t, ws, map[string]any{"type": "message", "client_id": "c-2", "text": "x", "files": []string{fileID + ".AAAAAAAAAAAAAAAAAAAAAA"}})
	if e := readFileFrame(t, ws, "error"); e.Code != chat.CodeInvalidAttachment || e.ClientID != "c-2" {
		t.Fatalf("forged handle: %+v", e)
	}
}
