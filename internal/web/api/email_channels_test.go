package api

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestEmailChannelAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, member, outsider := ts.admin(t), ts.agent(t), ts.agent(t)
		support := ts.inbox(t, "Support Desk", []*testUser{member}, nil)

		// Every inbox shows its receiving address.
		var ib map[string]any
		ts.doInto(t, "GET", fmt.Sprintf("/api/v1/inboxes/%d", support.ID), admin.Token, nil, http.StatusOK, &ib)
		if ib["receiving_address"] != "support-desk@in.parley.test" {
			t.Fatalf("receiving_address %v", ib["receiving_address"])
		}

		status, body := ts.do(t, "POST", "/api/v1/channels", admin.Token, map[string]any{"kind": "messenger", "inbox_id": support.ID})
		if status != 400 || body["code"] != "unsupported_channel_kind" {
			t.Fatalf("messenger: %d %v", status, body)
		}
		status, body = ts.do(t, "POST", "/api/v1/channels", admin.Token, map[string]any{"kind": "email", "inbox_id": support.ID, "address": "nope"})
		if status != 400 || body["code"] != "invalid_email_address" {
			t.Fatalf("bad address: %d %v", status, body)
		}
		status, body = ts.do(t, "POST", "/api/v1/channels", member.Token, map[string]any{"kind": "email", "inbox_id": support.ID, "address": "a@b.example"})
		if status != 403 {
			t.Fatalf("agent created a channel: %d %v", status, body)
		}

		var created map[string]any
		ts.doInto(t, "POST", "/api/v1/channels", admin.Token, map[string]any{
			"kind": "email", "inbox_id": support.ID, "address": "support@acme.example", "from_name": "company",
			"company_name": "Acme", "signature_html": "<p>{{agent.full_name}}, {{company.name}}</p>",
			"imap": map[string]any{"host": "imap.acme.example", "username": "support", "password": "hunter2"},
		}, http.StatusCreated, &created)
		e := created["email"].(map[string]any)
		secret, _ := e["webhook_secret"].(string)
		if created["kind"] != "email" || e["receiving_address"] != "support-desk@in.parley.test" || secret == "" ||
			e["imap_password_set"] != true || strings.Contains(fmt.Sprint(created), "hunter2") {
			t.Fatalf("created %v", created)
		}
		id := int64(created["id"].(float64))
		path := fmt.Sprintf("/api/v1/channels/%d", id)

		// Members see the channel but not its webhook secret; outsiders do not see it at all.
		var seen map[string]any
		ts.doInto(t, "GET", path, member.Token, nil, http.StatusOK, &seen)
		if _, has := seen["email"].(map[string]any)["webhook_secret"]; has {
			t.Fatalf("an agent sees the webhook secret: %v", seen)
		}
		if status, _ := ts.do(t, "GET", path, outsider.Token, nil); status != 404 {
			t.Fatalf("outsider: %d", status)
		}

		var patched map[string]any
		ts.doInto(t, "PATCH", path, admin.Token, map[string]any{"from_name": "agent_and_company", "remove_imap": true}, http.StatusOK, &patched)
		if pe := patched["email"].(map[string]any); pe["from_name"] != "agent_and_company" || pe["imap"] != nil || pe["company_name"] != "Acme" {
			t.Fatalf("patched %v", patched)
		}

		// The raw-MIME webhook: wrong secret, bearer, basic auth, multipart, duplicate.
		mail := "From: Lars <lars@client.example>\r\nTo: support@acme.example\r\nSubject: Hello\r\nMessage-ID: <w1@client.example>\r\n\r\nHi there.\r\n"
		hook := path + "/inbound-email"
		rec := ts.send(t, testRequest{Method: "POST", Path: hook, Body: mail, Header: http.Header{"Authorization": {"Bearer wrong"}, "Content-Type": {"message/rfc822"}}})
		if rec.Code != 401 || !strings.Contains(rec.Body.String(), "invalid_webhook_secret") {
			t.Fatalf("wrong secret: %d %s", rec.Code, rec.Body)
		}
		rec = ts.send(t, testRequest{Method: "POST", Path: "/api/v1/channels/999999/inbound-email", Body: mail, Header: http.Header{"Authorization": {"Bearer " + secret}}})
		if rec.Code != 401 {
			t.Fatalf("unknown channel: %d %s", rec.Code, rec.Body)
		}
		rec = ts.send(t, testRequest{Method: "POST", Path: hook, Body: mail, Header: http.Header{"Authorization": {"Bearer " + secret}, "Content-Type": {"message/rfc822"}}})
		first := decodeObject(t, rec.Body.Bytes())
		if rec.Code != 200 || first["duplicate"] != false || first["conversation_id"] == float64(0) {
			t.Fatalf("bearer: %d %s", rec.Code, rec.Body)
		}
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		_ = mw.WriteField("body-mime", mail)
		_ = mw.Close()
		r := testRequest{Method: "POST", Path: hook, Body: form.Bytes(), Header: http.Header{"Content-Type": {mw.FormDataContentType()}}}
		r.Header.Set("Authorization", "Basic "+basic("api", secret))
		rec = ts.send(t, r)
		again := decodeObject(t, rec.Body.Bytes())
		if rec.Code != 200 || again["duplicate"] != true || again["message_id"] != first["message_id"] {
			t.Fatalf("multipart retry: %d %s", rec.Code, rec.Body)
		}
		rec = ts.send(t, testRequest{Method: "POST", Path: hook, Body: "", Header: http.Header{"Authorization": {"Bearer " + secret}, "Content-Type": {"message/rfc822"}}})
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "unreadable_email") {
			t.Fatalf("empty mail: %d %s", rec.Code, rec.Body)
		}

		// A reply with Cc goes out; a forward needs a recipient; other channels refuse recipients.
		conv := int64(first["conversation_id"].(float64))
		msgPath := fmt.Sprintf("/api/v1/conversations/%d/messages", conv)
		status, body = ts.do(t, "POST", msgPath, member.Token, map[string]any{"text": "Hello Lars", "cc": []string{"not an address"}})
		if status != 400 || body["code"] != "invalid_recipient" {
			t.Fatalf("bad cc: %d %v", status, body)
		}
		status, body = ts.do(t, "POST", msgPath, member.Token, map[string]any{"text": "Hello Lars", "cc": []string{"Boss <boss@client.example>"}})
		if status != 201 {
			t.Fatalf("reply with cc: %d %v", status, body)
		}
		if !strings.Contains(fmt.Sprint(body["recipients"]), "boss@client.example") {
			t.Fatalf("recipients not stored: %v", body)
		}
		status, body = ts.do(t, "POST", msgPath, member.Token, map[string]any{"forward_of": first["message_id"]})
		if status != 400 || body["code"] != "invalid_recipient" {
			t.Fatalf("forward without recipient: %d %v", status, body)
		}
		status, body = ts.do(t, "POST", msgPath, member.Token, map[string]any{"forward_of": first["message_id"], "to": []string{"billing@acme.example"}, "text": "FYI"})
		if status != 201 {
			t.Fatalf("forward: %d %v", status, body)
		}
	})
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
