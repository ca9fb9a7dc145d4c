package ui

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// richMail is a Gmail-style reply: HTML with a remote image (a tracking pixel), an inline logo
// (cid:), a signature and quoted history, a Cc and a PDF attached.
const richMail = `From: Maria Gonzalez <maria@customer.example>
To: Support <support@acme.example>
Cc: Bob Boss <bob@customer.example>
Subject: Export fails
Date: Tue, 09 Jan 2024 14:00:00 +0100
Message-ID: <rich.1@mail.customer.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/related; boundary="related"

--related
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

The export still fails.

On Mon, 8 Jan 2024 at 10:00, Support <support@acme.example> wrote:
> Please try again.

--alt
Content-Type: text/html; charset=utf-8

<div dir="ltr"><p>The export <b>still</b> fails.</p><img src="https://tracker.example/pixel.gif" alt="pixel" width="1" height="1"><p><img src="cid:logo@customer" alt="Customer logo"></p><div class="gmail_signature">Maria Gonzalez | Customer Inc</div></div><div class="gmail_quote"><div class="gmail_attr">On Mon, 8 Jan 2024 at 10:00, Support wrote:</div><blockquote class="gmail_quote">Please try again.</blockquote></div>
--alt--

--related
Content-Type: image/png
Content-ID: <logo@customer>
Content-Disposition: inline; filename="logo.png"
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--related--

--mixed
Content-Type: image/png
Content-Disposition: attachment; filename="screen.png"
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--mixed
Content-Type: application/pdf
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK
--mixed--
`

// textReply is a plain-text reply with a signature and quoted history.
const textReply = `From: Maria Gonzalez <maria@customer.example>
To: support@acme.example
Subject: Re: Export fails
Date: Tue, 09 Jan 2024 15:00:00 +0100
Message-ID: <text.2@mail.customer.example>
In-Reply-To: <rich.1@mail.customer.example>
Content-Type: text/plain; charset=utf-8

Now it works, thanks!

-- 
Maria Gonzalez
Customer Inc

On Tue, 9 Jan 2024 at 14:30, Support <support@acme.example> wrote:
> Try the new version.
`

// emailConversation connects team email to Support and receives richMail.
func emailConversation(t *testing.T, h *harness) (*email.Service, int64, int64) {
	t.Helper()
	svc, _ := withEmail(t, h)
	h.emailChannel(t, svc, email.ChannelInput{SignatureHTML: ptr("<p>{{agent.full_name}}<br>{{agent.job_title}}<br>{{company.name}}</p>"),
		CompanyName: ptr("Acme")})
	out := deliverRaw(t, svc, h.support, richMail)
	if out.ConversationID == 0 || out.MessageID == 0 {
		t.Fatalf("rich mail: %+v", out)
	}
	return svc, out.ConversationID, out.MessageID
}

func ptr[T any](v T) *T { return &v }

// messageEntry cuts one message's entry (up to the end of its card) out of a timeline.
func messageEntry(t *testing.T, timeline string, id int64) string {
	t.Helper()
	start := strings.Index(timeline, `id="tl-m`+itoa(id)+`"`)
	if start < 0 {
		t.Fatalf("no message %d in:\n%s", id, timeline)
	}
	end := strings.Index(timeline[start:], "</article>")
	return timeline[start : start+end]
}

func TestEmailTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc, conv, mid := emailConversation(t, h)
		agent := h.signIn(t, h.agent)
		page := agent.get(t, "/inbox/"+itoa(conv), 200)
		msg := messageEntry(t, timelineOf(t, page), mid)

		// From, Cc, the forward action.
		mustContain(t, msg, "&lt;maria@customer.example&gt;", "<dt>Cc</dt><dd>Bob Boss &lt;bob@customer.example&gt;</dd>",
			`data-forward="`+itoa(mid)+`"`, `href="/inbox/`+itoa(conv)+`?forward=`+itoa(mid)+`#composer"`, "tl__body--email")
		// The tracking pixel stays parked until asked for; the button loads it.
		mustContain(t, msg, `data-src="https://tracker.example/pixel.gif"`, "Load images",
			`hx-get="/conversations/`+itoa(conv)+`/timeline?images=`+itoa(mid)+`"`, `href="/inbox/`+itoa(conv)+`?images=`+itoa(mid)+`"`)
		mustNotContain(t, msg, ` src="https://tracker.example`)
		// The inline logo is the mail's own file, and not listed again among the attachments.
		m, err := s.Message(t.Context(), mid)
		if err != nil {
			t.Fatal(err)
		}
		var parts []email.ReceivedFile
		if err := json.Unmarshal(m.Attachments, &parts); err != nil || len(parts) != 3 {
			t.Fatalf("attachments %s: %v", m.Attachments, err)
		}
		byName := map[string]email.ReceivedFile{}
		for _, p := range parts {
			byName[p.Name] = p
		}
		logo, pdf, screen := byName["logo.png"], byName["report.pdf"], byName["screen.png"]
		logoPath, pdfPath, screenPath := files.PathOf(logo.ID, logo.Name), files.PathOf(pdf.ID, pdf.Name), files.PathOf(screen.ID, screen.Name)
		// Attachments are listed with their downloads, images with a thumbnail.
		mustContain(t, msg, `src="`+logoPath+`"`, `href="`+pdfPath+`"`, "report.pdf",
			`href="`+screenPath+`"`, `<img class="tl__thumb" src="`+screenPath+`"`)
		mustNotContain(t, msg, "cid:", `class="tl__filename">logo.png`)
		if n := strings.Count(msg, logoPath); n != 1 {
			t.Fatalf("the logo appears %d times:\n%s", n, msg)
		}
		// Whoever sees the conversation downloads its files.
		agent.get(t, logoPath, 200)
		agent.get(t, pdfPath, 200)
		h.signIn(t, h.outside).get(t, pdfPath, 404)

		// Signature and quoted history are folded behind "…", the new text is not.
		fold := regexp.MustCompile(`(?s)<details class="tl__fold">.*?</details>`).FindString(msg)
		mustContain(t, fold, "Maria Gonzalez | Customer Inc", "Please try again.", "<summary", "…")
		body := strings.Replace(msg, fold, "", 1)
		mustContain(t, body, "The export <b>still</b> fails.")
		mustNotContain(t, body, "Please try again.", "Customer Inc")

		// Loading images: the timeline comes back with this mail's images on, and its live
		// refreshes keep them on.
		tl := agent.htmx(t, "GET", "/conversations/"+itoa(conv)+"/timeline?images="+itoa(mid), "timeline", nil)
		loaded := messageEntry(t, tl.Body, mid)
		mustContain(t, loaded, ` src="https://tracker.example/pixel.gif"`, `src="`+logoPath+`"`)
		mustNotContain(t, loaded, "Load images")
		mustContain(t, tl.Body, `data-live-url="/conversations/`+itoa(conv)+`/timeline?images=`+itoa(mid)+`"`)
		// Without scripts the page link does the same.
		mustContain(t, messageEntry(t, agent.get(t, "/inbox/"+itoa(conv)+"?images="+itoa(mid), 200), mid), ` src="https://tracker.example/pixel.gif"`)

		// A plain-text reply folds its signature and quote too.
		out := deliverRaw(t, svc, h.support, textReply)
		if out.ConversationID != conv {
			t.Fatalf("text reply threaded to %d, want %d", out.ConversationID, conv)
		}
		txt := messageEntry(t, timelineOf(t, agent.get(t, "/inbox/"+itoa(conv), 200)), out.MessageID)
		fold = regexp.MustCompile(`(?s)<details class="tl__fold">.*?</details>`).FindString(txt)
		mustContain(t, fold, "Customer Inc", "&gt; Try the new version.")
		mustContain(t, strings.Replace(txt, fold, "", 1), "Now it works, thanks!")
		mustNotContain(t, strings.Replace(txt, fold, "", 1), "Try the new version", "Customer Inc")
		mustNotContain(t, txt, "Load images")
	})
}

func TestEmailComposer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv, mid := emailConversation(t, h)
		agent := h.signIn(t, h.agent)
		page := agent.get(t, "/inbox/"+itoa(conv), 200)
		mustContain(t, page, `id="composer-to"`, `placeholder="Maria Gonzalez &lt;maria@customer.example&gt;"`,
			`name="cc"`, `name="bcc"`, "Cc/Bcc", `id="composer-forward" hidden`,
			// The signature this agent's replies carry, tokens filled in.
			"Signature:</span> Ana Agent · Acme")

		// A reply with Cc and Bcc stores its recipients; To left empty means the contact.
		res := agent.htmx(t, "POST", "/conversations/"+itoa(conv)+"/send", "timeline", url.Values{"mode": {"reply"},
			"text": {"Fixed in 2.3, please update."}, "to": {""}, "cc": {`"Boss, Bob" <bob@customer.example>; carol@customer.example`},
			"bcc": {"audit@acme.example"}})
		if res.StatusCode != 200 {
			t.Fatalf("reply: %d %s", res.StatusCode, res.Body)
		}
		reply := lastMessage(t, s, conv)
		var rcpts []struct{ Kind, Name, Email string }
		if err := json.Unmarshal(reply.Recipients, &rcpts); err != nil {
			t.Fatal(err)
		}
		want := []struct{ Kind, Name, Email string }{{"cc", "Boss, Bob", "bob@customer.example"}, {"cc", "", "carol@customer.example"}, {"bcc", "", "audit@acme.example"}}
		if len(rcpts) != len(want) {
			t.Fatalf("recipients %s", reply.Recipients)
		}
		for i := range want {
			if rcpts[i] != want[i] {
				t.Fatalf("recipient %d: %+v, want %+v", i, rcpts[i], want[i])
			}
		}
		// The new message shows them; the composer came back empty.
		mine := messageEntry(t, res.Body, reply.ID)
		mustContain(t, mine, "<dt>Cc</dt><dd>Boss, Bob &lt;bob@customer.example&gt;, carol@customer.example</dd>", "<dt>Bcc</dt><dd>audit@acme.example</dd>")
		mustContain(t, res.Body, `id="composer" `, `hx-swap-oob="true"`)

		// A bad address is refused in the composer, nothing is stored.
		bad := agent.htmx(t, "POST", "/conversations/"+itoa(conv)+"/send", "timeline", url.Values{"mode": {"reply"},
			"text": {"Hello"}, "cc": {"bob at customer"}})
		if bad.StatusCode != 422 || bad.Header.Get("HX-Retarget") != "#composer-error" {
			t.Fatalf("bad cc: %d %q", bad.StatusCode, bad.Header.Get("HX-Retarget"))
		}
		mustContain(t, bad.Body, "Check the recipients")
		if lastMessage(t, s, conv).ID != reply.ID {
			t.Fatal("a reply with a bad address was stored")
		}

		// Forward: ?forward= opens the composer forwarding (for browsers without scripts)…
		fwdPage := agent.get(t, "/inbox/"+itoa(conv)+"?forward="+itoa(mid), 200)
		mustContain(t, fwdPage, `id="composer-forward-of" value="`+itoa(mid)+`"`, "Forwarding the message from Maria Gonzalez",
			`placeholder="Forward to name@example.com" required`)
		mustNotContain(t, fwdPage, `id="composer-forward" hidden`)
		// …a forward needs someone to go to…
		none := agent.htmx(t, "POST", "/conversations/"+itoa(conv)+"/send", "timeline", url.Values{"mode": {"reply"},
			"text": {""}, "forward_of": {itoa(mid)}})
		if none.StatusCode != 422 {
			t.Fatalf("forward without To: %d", none.StatusCode)
		}
		// …and with To it goes, the note optional.
		fwd := agent.htmx(t, "POST", "/conversations/"+itoa(conv)+"/send", "timeline", url.Values{"mode": {"reply"},
			"text": {""}, "to": {"partner@vendor.example"}, "forward_of": {itoa(mid)}})
		if fwd.StatusCode != 200 {
			t.Fatalf("forward: %d %s", fwd.StatusCode, fwd.Body)
		}
		forwarded := lastMessage(t, s, conv)
		var sender struct {
			ForwardOf int64 `json:"forward_of"`
		}
		if err := json.Unmarshal(forwarded.Sender, &sender); err != nil || sender.ForwardOf != mid || !strings.Contains(string(forwarded.Recipients), "partner@vendor.example") {
			t.Fatalf("forward stored as %s %s", forwarded.Sender, forwarded.Recipients)
		}
		mustContain(t, messageEntry(t, fwd.Body, forwarded.ID), "Forwarded", "<dt>To</dt><dd>partner@vendor.example</dd>")
	})
}

// TestEmailDeliveryFromComposer sends a reply with Cc and Bcc through the real delivery job
// into the capturing SMTP server: the headers carry the Cc, the envelope the Bcc.
func TestEmailDeliveryFromComposer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc, sink := withEmail(t, h)
		h.emailChannel(t, svc, email.ChannelInput{SignatureHTML: ptr("<p>{{agent.full_name}} · {{company.name}}</p>"), CompanyName: ptr("Acme")})
		out := deliverRaw(t, svc, h.support, richMail)
		agent := h.signIn(t, h.agent)
		res := agent.htmx(t, "POST", "/conversations/"+itoa(out.ConversationID)+"/send", "timeline", url.Values{"mode": {"reply"},
			"text": {"Fixed, please update."}, "cc": {"bob@customer.example"}, "bcc": {"audit@acme.example"}})
		if res.StatusCode != 200 {
			t.Fatalf("reply: %d %s", res.StatusCode, res.Body)
		}
		msg := lastMessage(t, s, out.ConversationID)
		payload, _ := json.Marshal(map[string]int64{"message_id": msg.ID})
		if err := h.Inbox.Deliver(t.Context(), &store.Job{ID: 1, Payload: payload, Attempts: 1, MaxAttempts: 5}); err != nil {
			t.Fatalf("deliver: %v", err)
		}
		got := sink.Next(t)
		if cc := got.Header.Get("Cc"); !strings.Contains(cc, "bob@customer.example") {
			t.Fatalf("Cc header %q", cc)
		}
		if got.Header.Get("Bcc") != "" || !strings.Contains(strings.Join(got.To, ","), "audit@acme.example") ||
			!strings.Contains(strings.Join(got.To, ","), "maria@customer.example") {
			t.Fatalf("envelope %v, Bcc header %q", got.To, got.Header.Get("Bcc"))
		}
		if !strings.Contains(string(got.Raw), "Ana Agent") {
			t.Fatalf("the signature is missing:\n%s", got.Raw)
		}
	})
}

// TestEmailPartsOnlyForEmail: a conversation on a channel that takes no recipients shows no
// recipient fields and no forward action, and refuses recipients posted anyway.
func TestEmailPartsOnlyForEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		withEmail(t, h)
		_, c := h.receive(t, "chat-1", "Carla Customer", "Hello\n> quoted looking line")
		agent := h.signIn(t, h.agent)
		page := agent.get(t, "/inbox/"+itoa(c.ID), 200)
		mustNotContain(t, page, `id="composer-to"`, "Cc/Bcc", "data-forward=", "Signature:", "tl__fold")
		res := agent.htmx(t, "POST", "/conversations/"+itoa(c.ID)+"/send", "timeline", url.Values{"mode": {"reply"},
			"text": {"Hi"}, "cc": {"boss@customer.test"}})
		if res.StatusCode != 422 {
			t.Fatalf("cc on a chat channel: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, "always replies to the conversation&#39;s contact")
		// A plain reply still works.
		if res := agent.htmx(t, "POST", "/conversations/"+itoa(c.ID)+"/send", "timeline", url.Values{"mode": {"reply"}, "text": {"Hi"}}); res.StatusCode != 200 {
			t.Fatalf("reply: %d %s", res.StatusCode, res.Body)
		}
	})
}

// lastMessage is the newest message of a conversation.
func lastMessage(t *testing.T, s *store.Store, conv int64) *store.Message {
	t.Helper()
	list, err := s.Messages(t.Context(), conv)
	if err != nil || len(list) == 0 {
		t.Fatalf("messages of %d: %v %v", conv, list, err)
	}
	last := list[0]
	for _, m := range list {
		if m.ID > last.ID {
			last = m
		}
	}
	return &last
}
