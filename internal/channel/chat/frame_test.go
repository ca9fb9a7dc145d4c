package chat_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/problem"
)

// TestWidgetFrame: the widget's frame (widget.Frame) may be embedded by the allowed sites and
// Parley's own pages, and its requests, made from Parley's origin, are accepted — a file
// download too, for which browsers send Sec-Fetch-Site instead of an Origin.
func TestWidgetFrame(t *testing.T) {
	f := newFixture(t)
	origins, err := f.chat.FrameOrigins(f.ctx, f.view.Chat.PublicID)
	if err != nil || !slices.Equal(origins, []string{site, "https://parley.example"}) {
		t.Fatalf("frame origins %v, %v", origins, err)
	}
	if _, err := f.chat.FrameOrigins(f.ctx, "nope"); err == nil {
		t.Fatal("an unknown channel has frame origins")
	} else if p, ok := problem.As(err); !ok || p.Code != chat.CodeWidgetNotFound {
		t.Fatalf("unknown channel: %v", err)
	}

	f.chat.Files = files.New(f.s, t.TempDir(), "https://parley.example")
	code, sess, _ := f.session("https://parley.example", map[string]any{"page_url": site + "/"})
	if code != 200 || sess.Token == "" {
		t.Fatalf("a session from Parley's origin: %d", code)
	}
	code, out := f.upload("https://parley.example", sess.Token, "a.png", "image/png", pngBytes(t))
	if code != http.StatusCreated {
		t.Fatalf("an upload from Parley's origin: %d %v", code, out)
	}
	id, _ := out["id"].(string)
	get := func(fetchSite string) int {
		req, _ := http.NewRequest("GET", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/files/"+id+"/a.png", nil)
		req.Header.Set("Authorization", "Bearer "+sess.Token)
		if fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// The file is not on a conversation yet: the frame's same-origin download gets past the
	// origin check to the file's own answer; without Sec-Fetch-Site or from another site, it is refused.
	for fetchSite, forbidden := range map[string]bool{"same-origin": false, "": true, "cross-site": true, "same-site": true} {
		if got := get(fetchSite); (got == http.StatusForbidden) != forbidden {
			t.Errorf("Sec-Fetch-Site %q: status %d", fetchSite, got)
		}
	}
}
