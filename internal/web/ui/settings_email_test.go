package ui

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/channel/email/imapsync"
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/mail/mailtest"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// withEmail gives the harness's web app a real email service: files on disk, relaying into a
// capturing SMTP server, receiving at <inbox slug>@in.parley.test, and the sender of email
// channels' replies.
func withEmail(t *testing.T, h *harness) (*email.Service, *mailtest.Server) {
	t.Helper()
	tr, err := thread.New([]byte("a-test-installation-secret-32-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	sink := mailtest.Start(t)
	relay, err := outbound.NewSender(sink.URL)
	if err != nil {
		t.Fatal(err)
	}
	svc := &email.Service{Store: h.Store, Inbox: h.Inbox, Files: withFiles(t, h), Threader: tr,
		Domain: "in.parley.test", Relay: relay}
	h.Inbox.Senders[email.Kind] = svc
	h.UI.Email = svc
	return svc, sink
}

// emailChannel connects support@acme.example to the Support inbox through the domain.
func (h *harness) emailChannel(t *testing.T, svc *email.Service, in email.ChannelInput) *email.View {
	t.Helper()
	if in.Address == nil {
		a := "support@acme.example"
		in.Address = &a
	}
	in.InboxID = h.support.ID
	v, err := svc.CreateChannel(t.Context(), h.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// deliverRaw runs raw mail through the inbox's receiving address, as the SMTP receiver does.
func deliverRaw(t *testing.T, svc *email.Service, in *store.Inbox, raw string) email.Outcome {
	t.Helper()
	return deliverBytes(t, svc, in, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

func deliverBytes(t *testing.T, svc *email.Service, in *store.Inbox, raw []byte) email.Outcome {
	t.Helper()
	out, err := svc.Receive(t.Context(), email.Delivery{InboxID: in.ID, Raw: raw, Recipients: []string{svc.ReceivingAddress(in)}})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return out
}

func emailFormValues(address string) url.Values {
	return url.Values{"address": {address}, "from_name": {"agent_and_company"}, "company_name": {"Acme"},
		"signature_html": {"<p>{{agent.full_name}}, {{company.name}}</p>"}, "log_to_original_sender": {"on"},
		"filters.auto_replies": {"on"}, "filters.bounces": {"on"}, "filters.bulk": {"on"}}
}

func TestEmailSettingsConnectAndTest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc, sink := withEmail(t, h)
		admin, agent := h.signIn(t, h.admin), h.signIn(t, h.agent)
		sid := itoa(h.support.ID)

		list := admin.get(t, "/settings/email", 200)
		mustContain(t, list, "Support", "support@in.parley.test", `href="/settings/email/new?inbox=`+sid+`"`, `aria-current="page"`)
		agent.get(t, "/settings/email", 403)
		agent.get(t, "/settings/email/new?inbox="+sid, 403)

		setup := admin.get(t, "/settings/email/new?inbox="+sid, 200)
		mustContain(t, setup, "Connect team email to Support", `value="support@in.parley.test"`, "“Adam at Support”",
			"Gmail and Google Workspace", "Microsoft 365", "5.7.520", "Automatic forwarding rules",
			`name="imap.host"`, `name="smtp.host"`, "{{agent.job_title}}", `id="email-preview"`)

		// Refusals are shown next to their fields, with what was typed kept.
		bad := emailFormValues("not an address")
		bad.Set("inbox_id", sid)
		res := admin.settingsPost(t, "/settings/email", bad, 422)
		mustContain(t, res.Body, `id="email-address-error"`, "Enter an email address such as support@example.com.",
			`aria-invalid="true"`, `value="not an address"`, `value="Acme"`)
		bad = emailFormValues("support@acme.example")
		bad.Set("inbox_id", sid)
		bad.Set("imap_enabled", "on")
		bad.Set("imap.host", "imap.acme.example")
		bad.Set("imap.port", "99999")
		res = admin.settingsPost(t, "/settings/email", bad, 422)
		mustContain(t, res.Body, `id="email-imap-port-error"`, "Enter a port number between 1 and 65535.", `value="imap.acme.example"`)
		bad.Set("imap.port", "993")
		res = admin.settingsPost(t, "/settings/email", bad, 422)
		mustContain(t, res.Body, `id="email-imap-username-error"`, "Enter the user name the mailbox signs in with.")
		if chs, _ := s.ChannelsOfKind(t.Context(), email.Kind); len(chs) != 0 {
			t.Fatalf("refused forms created channels: %v", chs)
		}

		good := emailFormValues("Support@Acme.example")
		good.Set("inbox_id", sid)
		res = admin.settingsPost(t, "/settings/email", good, 204)
		chs, err := s.ChannelsOfKind(t.Context(), email.Kind)
		if err != nil || len(chs) != 1 {
			t.Fatalf("channels after connecting: %v %v", chs, err)
		}
		ch := chs[0]
		id := itoa(ch.ID)
		if loc := res.Header.Get("HX-Redirect"); loc != "/settings/email/"+id+"?flash=email.flash.connected" {
			t.Fatalf("after connecting went to %q", loc)
		}
		st, err := email.ChannelSettings(ch)
		if err != nil || st.Address != "support@acme.example" || st.CompanyName != "Acme" || st.Filters.RoleSenders || !st.Filters.Bulk || st.IMAP != nil {
			t.Fatalf("stored settings %+v %v", st, err)
		}
		// The same address twice is refused at the address.
		res = admin.settingsPost(t, "/settings/email", good, 422)
		mustContain(t, res.Body, `id="email-address-error"`, "Another email channel already uses this address.")

		page := admin.get(t, "/settings/email/"+id+"?flash=email.flash.connected", 200)
		mustContain(t, page, "Team email connected", "Is mail arriving?", "Send test mail",
			"http://parley.test/api/v1/channels/"+id+"/inbound-email", `hx-get="/settings/email/`+id+`/secret"`,
			// A fresh channel waits for its first mail: the card polls.
			`hx-get="/settings/email/`+id+`/status"`, `hx-trigger="every 3s"`)
		mustNotContain(t, page, st.WebhookSecret)
		mustContain(t, admin.get(t, "/settings/email", 200), "support@acme.example", "Not tested yet")
		agent.get(t, "/settings/email/"+id, 403)
		agent.get(t, "/settings/email/"+id+"/secret", 403)

		// The secret only when asked for.
		secret := admin.htmx(t, "GET", "/settings/email/"+id+"/secret", "email-secret", nil)
		mustContain(t, secret.Body, `id="email-secret"`, st.WebhookSecret)

		// Send a test mail: the card says it is on its way and keeps polling.
		sent := admin.htmx(t, "POST", "/settings/email/"+id+"/test", "email-status", url.Values{})
		if sent.StatusCode != 200 {
			t.Fatalf("send test: %d %s", sent.StatusCode, sent.Body)
		}
		mustContain(t, sent.Body, `id="email-status"`, `data-test="waiting"`, `hx-trigger="every 3s"`, "Send another test mail")
		mustNotContain(t, sent.Body, "<html")
		got := sink.Next(t)
		if len(got.To) != 1 || got.To[0] != "support@acme.example" || got.Header.Get("X-Parley-Test") == "" {
			t.Fatalf("test mail: to %v, headers %v", got.To, got.Header)
		}

		// A minute without it: the likely causes, Microsoft's 5.7.520 among them.
		age(t, s, ch.ID, 2*time.Minute)
		late := admin.htmx(t, "GET", "/settings/email/"+id+"/status", "email-status", nil)
		mustContain(t, late.Body, `data-test="late"`, "Likely causes", "5.7.520", "SPF or DMARC", `hx-trigger="every 3s"`)

		// The team's forwarding brings it back: the card says how long it took and stops polling.
		out := deliverBytes(t, svc, h.support, got.Raw)
		if out.Kind != email.KindTest || out.MessageID != 0 {
			t.Fatalf("test mail coming back: %+v", out)
		}
		arrived := admin.htmx(t, "GET", "/settings/email/"+id+"/status", "email-status", nil)
		mustContain(t, arrived.Body, `data-test="arrived"`, "The test mail arrived after 2 min")
		mustNotContain(t, arrived.Body, "hx-trigger")
		mustContain(t, admin.get(t, "/settings/email", 200), "Mail arrives")

		// Gmail's forwarding confirmation shows up with its code and link (EMAIL-9).
		deliverRaw(t, svc, h.support, gmailConfirmation)
		conf := admin.get(t, "/settings/email/"+id, 200)
		mustContain(t, conf, "Gmail asks to confirm that support@acme.example may forward its mail here", "638291047",
			`href="https://mail-settings.google.com/mail/vf-%5BANGjdJ8xYz%5D-abcDEF123_ghi-XyZ"`, "Open the confirmation link")

		// Without a relay the test mail cannot go: said in the card, not as an error page.
		svc.Relay = nil
		norelay := admin.htmx(t, "POST", "/settings/email/"+id+"/test", "email-status", url.Values{})
		if norelay.StatusCode != 200 {
			t.Fatalf("send test without relay: %d %s", norelay.StatusCode, norelay.Body)
		}
		mustContain(t, norelay.Body, "There is no SMTP relay to send through")
	})
}

// age moves a channel's test mail back in time by d, as if it had been sent d ago.
func age(t *testing.T, s *store.Store, channelID int64, d time.Duration) {
	t.Helper()
	err := s.InTx(t.Context(), func(tx *store.Tx) error {
		ch, err := tx.ChannelForUpdate(t.Context(), channelID)
		if err != nil {
			return err
		}
		st, err := email.ChannelState(ch)
		if err != nil {
			return err
		}
		st.Test.SentAt -= d.Milliseconds()
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return tx.SetChannelState(t.Context(), channelID, raw)
	})
	if err != nil {
		t.Fatal(err)
	}
}

const gmailConfirmation = `MIME-Version: 1.0
Date: Wed, 24 Jan 2024 09:00:00 -0800
Message-ID: <000000000000fwdconf@google.com>
Subject: (#638291047) Gmail Forwarding Confirmation - Receive Mail from support@acme.example
From: Gmail Team <forwarding-noreply@google.com>
To: support@in.parley.test
Content-Type: text/plain; charset="UTF-8"

support@acme.example has requested to automatically forward mail to your email
address support@in.parley.test.
Confirmation code: 638291047

To allow support@acme.example to automatically forward mail to your address,
please click the link below to confirm the request:

https://mail-settings.google.com/mail/vf-%5BANGjdJ8xYz%5D-abcDEF123_ghi-XyZ
`

func TestEmailSettingsEdit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc, _ := withEmail(t, h)
		admin := h.signIn(t, h.admin)
		v := h.emailChannel(t, svc, email.ChannelInput{IMAP: &email.IMAPSettings{Host: "imap.acme.example",
			Username: "support@acme.example", Password: "first-secret", BackfillDays: 7}})
		id := itoa(v.Channel.ID)

		page := admin.get(t, "/settings/email/"+id, 200)
		mustContain(t, page, `value="imap.acme.example"`, `value="993"`, "Unchanged (leave empty to keep it)", "IMAP mailbox",
			"Waiting for the first connection")
		mustNotContain(t, page, "first-secret")

		// Saving with the password left empty keeps it; the signature and filters change.
		form := emailFormValues("support@acme.example")
		form.Set("signature_html", "<p>Cheers, {{agent.first_name}}</p>")
		form.Set("imap_enabled", "on")
		form.Set("imap.host", "imap.acme.example")
		form.Set("imap.username", "support@acme.example")
		form.Set("imap.backfill_days", "30")
		res := admin.settingsPost(t, "/settings/email/"+id, form, 200)
		mustContain(t, res.Body, "Email settings saved", "Cheers, Adam")
		full := storedEmailSettings(t, s, v.Channel.ID)
		if full.IMAP == nil || full.IMAP.Password != "first-secret" || full.IMAP.BackfillDays != 30 || full.SignatureHTML != "<p>Cheers, {{agent.first_name}}</p>" || full.Filters.RoleSenders {
			t.Fatalf("after editing: %+v %+v", full, full.IMAP)
		}

		// Recording IMAP outcomes shows them on the page.
		if err := s.RecordEmailIMAPSuccess(t.Context(), v.Channel.ID, time.Now().Add(-time.Hour).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordEmailIMAPError(t.Context(), v.Channel.ID, "imap login: NO [AUTHENTICATIONFAILED] Invalid credentials", time.Now().UnixMilli()); err != nil {
			t.Fatal(err)
		}
		mustContain(t, admin.get(t, "/settings/email/"+id, 200), "Last fetched", "Failing since", "AUTHENTICATIONFAILED")
		// So are quarantined senders.
		err := s.InTx(t.Context(), func(tx *store.Tx) error {
			raw, _ := json.Marshal(email.State{Quarantined: []email.Quarantine{{Sender: "flood@spam.example", At: time.Now().UnixMilli()}}})
			return tx.SetChannelState(t.Context(), v.Channel.ID, raw)
		})
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, admin.get(t, "/settings/email/"+id, 200), "Quarantined senders", "flood@spam.example")

		// Unticking IMAP removes the mailbox; an own relay can be added.
		form.Del("imap_enabled")
		form.Set("smtp_enabled", "on")
		form.Set("smtp.host", "smtp.acme.example")
		form.Set("smtp.username", "support@acme.example")
		form.Set("smtp.password", "relay-secret")
		admin.settingsPost(t, "/settings/email/"+id, form, 200)
		full = storedEmailSettings(t, s, v.Channel.ID)
		if full.IMAP != nil || full.SMTP == nil || full.SMTP.Host != "smtp.acme.example" || full.SMTP.Password != "relay-secret" {
			t.Fatalf("after switching to SMTP: %+v %+v", full.IMAP, full.SMTP)
		}
		mustNotContain(t, admin.get(t, "/settings/email/"+id, 200), "relay-secret")

		// DKIM: a bad key is refused next to the section; a good one is stored and never shown.
		form.Set("dkim_enabled", "on")
		form.Set("dkim.selector", "parley")
		form.Set("dkim.private_key", "not a key")
		bad := admin.settingsPost(t, "/settings/email/"+id, form, 422)
		mustContain(t, bad.Body, `id="email-dkim-error"`, "Give a selector and a private key in PEM")
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		form.Set("dkim.private_key", keyPEM)
		admin.settingsPost(t, "/settings/email/"+id, form, 200)
		if full = storedEmailSettings(t, s, v.Channel.ID); full.DKIM == nil || full.DKIM.Selector != "parley" || full.DKIM.PrivateKey != strings.TrimSpace(keyPEM) {
			t.Fatalf("dkim not stored: %+v", full.DKIM)
		}
		mustNotContain(t, admin.get(t, "/settings/email/"+id, 200), "PRIVATE KEY-----\n")
		form.Set("dkim.private_key", "") // saving again keeps the key
		admin.settingsPost(t, "/settings/email/"+id, form, 200)
		if full = storedEmailSettings(t, s, v.Channel.ID); full.DKIM == nil || full.DKIM.PrivateKey != strings.TrimSpace(keyPEM) {
			t.Fatalf("dkim key lost on a save without it: %+v", full.DKIM)
		}
		form.Del("dkim_enabled")

		// A refused edit shows the problem and keeps the rest of what was typed.
		form.Set("smtp.host", "smtp acme")
		bad = admin.settingsPost(t, "/settings/email/"+id, form, 422)
		mustContain(t, bad.Body, `id="email-smtp-host-error"`, "Enter a server name such as smtp.example.com.", `value="smtp acme"`)
	})
}

func storedEmailSettings(t *testing.T, s *store.Store, id int64) email.Settings {
	t.Helper()
	ch, err := s.Channel(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	st, err := email.ChannelSettings(ch)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestEmailSettingsPreview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		withEmail(t, h)
		admin := h.signIn(t, h.admin)
		res := admin.htmx(t, "POST", "/settings/email/preview", "email-preview", url.Values{
			"inbox_id": {itoa(h.support.ID)}, "address": {"help@acme.example"}, "from_name": {"agent_and_company"},
			"company_name": {"Acme & Co"}, "signature_html": {`<p onclick="x()">{{agent.full_name}} · {{company.name}} · {{inbox.name}}</p><script>alert(1)</script>`}})
		if res.StatusCode != 200 {
			t.Fatalf("preview: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, `id="email-preview"`, "Adam at Acme &amp; Co", "&lt;help@acme.example&gt;",
			`id="email-from-agent" hx-swap-oob="true">“Adam at Acme &amp; Co”`, `id="email-from-company" hx-swap-oob="true">“Acme &amp; Co”`,
			"Adam Admin · Acme &amp; Co · Support")
		mustNotContain(t, res.Body, "<script", "onclick", "<html")
		// Without a company name the inbox's name stands in, as it will when connected.
		res = admin.htmx(t, "POST", "/settings/email/preview", "email-preview", url.Values{
			"inbox_id": {itoa(h.support.ID)}, "from_name": {"company"}, "signature_html": {""}})
		mustContain(t, res.Body, "<span class=\"muted\">From:</span> Support", "No signature")
	})
}

// fakeIMAP records the settings it is asked to test and answers err.
type fakeIMAP struct {
	mu   sync.Mutex
	got  []imapsync.Config
	fail error
}

func (f *fakeIMAP) test(_ context.Context, c imapsync.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, c)
	return f.fail
}

func (f *fakeIMAP) last() imapsync.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[len(f.got)-1]
}

func TestEmailSettingsIMAPTest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc, _ := withEmail(t, h)
		admin := h.signIn(t, h.admin)

		// A real attempt against a port nobody listens on fails at the first step.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		form := url.Values{"imap.host": {"127.0.0.1"}, "imap.port": {port}, "imap.security": {"none"},
			"imap.username": {"support"}, "imap.password": {"pw"}}
		res := admin.htmx(t, "POST", "/settings/email/imap-test", "imap-test-result", form)
		mustContain(t, res.Body, `id="imap-test-result"`, `imap-test__step--failed" data-step="connect"`,
			`imap-test__step--skipped" data-step="login"`, "connection refused")

		fake := &fakeIMAP{fail: &imapsync.StepError{Step: imapsync.StepLogin, Err: errors.New("NO [AUTHENTICATIONFAILED] Invalid credentials")}}
		h.UI.IMAPTest = fake.test
		form.Set("imap.security", "tls")
		res = admin.htmx(t, "POST", "/settings/email/imap-test", "imap-test-result", form)
		mustContain(t, res.Body, `imap-test__step--ok" data-step="connect"`, `imap-test__step--ok" data-step="tls"`,
			`imap-test__step--failed" data-step="login"`, `imap-test__step--skipped" data-step="mailbox"`, "AUTHENTICATIONFAILED")
		fake.fail = nil
		res = admin.htmx(t, "POST", "/settings/email/imap-test", "imap-test-result", form)
		mustContain(t, res.Body, "Connected: signed in and opened the folder.")
		mustNotContain(t, res.Body, "step--failed")
		// Settings that can never work are said at once.
		form.Set("imap.port", "port")
		res = admin.htmx(t, "POST", "/settings/email/imap-test", "imap-test-result", form)
		mustContain(t, res.Body, "Enter a port number between 1 and 65535.")

		// On a connected channel an empty password means the stored one, for the same server only.
		v := h.emailChannel(t, svc, email.ChannelInput{IMAP: &email.IMAPSettings{Host: "imap.acme.example",
			Username: "support@acme.example", Password: "stored-secret"}})
		path := "/settings/email/" + itoa(v.Channel.ID) + "/imap-test"
		same := url.Values{"imap.host": {"imap.acme.example"}, "imap.username": {"support@acme.example"}, "imap.security": {"tls"}}
		admin.htmx(t, "POST", path, "imap-test-result", same)
		if got := fake.last(); got.Password != "stored-secret" || got.Port != 0 || got.Mailbox != "" && got.Mailbox != "INBOX" {
			t.Fatalf("test of the stored mailbox used %+v", got)
		}
		other := url.Values{"imap.host": {"imap.evil.example"}, "imap.username": {"support@acme.example"}, "imap.security": {"tls"}}
		admin.htmx(t, "POST", path, "imap-test-result", other)
		if got := fake.last(); got.Password != "" {
			t.Fatalf("the stored password went to another server: %+v", got)
		}

		// Without scripts the button posts the whole form: the page comes back with the result.
		plain := admin.post(t, path, same, 200)
		mustContain(t, plain.Body, "<html", "Connected: signed in and opened the folder.", `value="imap.acme.example"`)
	})
}

// TestEmailRoutesMalformedInput: the email routes, with email on, refuse ids that are not ids
// and forms that are not forms without an internal error.
func TestEmailRoutesMalformedInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc, _ := withEmail(t, h)
		v := h.emailChannel(t, svc, email.ChannelInput{})
		out := deliverRaw(t, svc, h.support, textReply)
		admin := h.signIn(t, h.admin)
		junk := url.Values{"inbox_id": {"1e9"}, "address": {"\x00@"}, "from_name": {"nobody"}, "imap_enabled": {"on"},
			"imap.port": {"-1"}, "imap.backfill_days": {"9999999999999999999999"}, "smtp_enabled": {"on"}, "smtp.port": {"x"},
			"signature_html": {strings.Repeat("<p>", 20000)}, "to": {"a,,b;<>"}, "cc": {"\"unterminated"}, "forward_of": {"-3"}}
		for _, rt := range h.UI.emailSettingsRoutes() {
			for _, id := range []string{"x", "0", "99999999999999999999", "987654321", itoa(v.Channel.ID)} {
				method, path := routePath(rt.pattern, id)
				for _, hdr := range []http.Header{nil, {"Hx-Request": {"true"}, "Hx-Target": {"settings-main"}}} {
					if res := admin.do(t, method, path+"?inbox=-1&images=x,,-2", junk, hdr); res.StatusCode >= 500 {
						t.Errorf("%s %s: %d\n%s", method, path, res.StatusCode, res.Body)
					}
				}
			}
		}
		for _, p := range []string{"/inbox/" + itoa(out.ConversationID) + "?images=x,1,,99999999999999999999&forward=abc",
			"/conversations/" + itoa(out.ConversationID) + "/timeline?images=-1"} {
			admin.get(t, p, 200)
		}
		res := admin.htmx(t, "POST", "/conversations/"+itoa(out.ConversationID)+"/send", "timeline", junk)
		if res.StatusCode >= 500 {
			t.Errorf("send with junk recipients: %d %s", res.StatusCode, res.Body)
		}
	})
}
