package chat_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestVisitorContext: the session request records the browser, time zone and first page; page
// frames record moves; a bad page frame is refused and changes nothing.
func TestVisitorContext(t *testing.T) {
	f := newFixture(t)
	const ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	b, _ := json.Marshal(map[string]any{"page_url": site + "/pricing", "title": "Pricing\n – Acme", "referrer": "https://search.example/?q=acme",
		"language": "sv-SE", "time_zone": "Europe/Stockholm"})
	req, _ := http.NewRequest("POST", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/session", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", site)
	req.Header.Set("User-Agent", ua)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess sessionAnswer
	if err := json.NewDecoder(res.Body).Decode(&sess); err != nil || res.StatusCode != 200 {
		t.Fatalf("session: %d %v", res.StatusCode, err)
	}
	res.Body.Close()

	vc, err := f.s.ChatVisitorContext(f.ctx, sess.VisitorID)
	if err != nil {
		t.Fatal(err)
	}
	if vc.UserAgent != ua || vc.TimeZone != "Europe/Stockholm" || vc.PageTitle != "Pricing – Acme" ||
		vc.Visitor.Referrer != "https://search.example/?q=acme" || vc.Visitor.Language != "sv-SE" ||
		len(vc.Pages) != 1 || vc.Pages[0].URL != site+"/pricing" {
		t.Fatalf("after the session: %+v", vc)
	}

	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ready")
	send(t, ws, map[string]any{"type": "page", "url": "javascript:alert(1)", "title": "x"})
	if e := readUntil(t, ws, "error"); e.Code != "invalid_frame" {
		t.Fatalf("a javascript: page: %+v", e)
	}
	send(t, ws, map[string]any{"type": "typing", "url": site + "/sneaky"})
	if e := readUntil(t, ws, "error"); e.Code != "invalid_frame" {
		t.Fatalf("typing with a url: %+v", e)
	}
	send(t, ws, map[string]any{"type": "page", "url": site + "/pricing/enterprise", "title": "Enterprise"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		vc, err = f.s.ChatVisitorContext(f.ctx, sess.VisitorID)
		if err != nil {
			t.Fatal(err)
		}
		// The visitor row and the pages are read by separate queries: wait for both.
		if (len(vc.Pages) == 2 && vc.PageTitle == "Enterprise") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(vc.Pages) != 2 || vc.Pages[0].URL != site+"/pricing/enterprise" || vc.Pages[0].Title != "Enterprise" ||
		vc.Visitor.PageURL != site+"/pricing/enterprise" || vc.PageTitle != "Enterprise" {
		t.Fatalf("after a page frame: %+v", vc)
	}
}
