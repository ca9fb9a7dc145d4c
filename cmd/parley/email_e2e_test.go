package main

import (
	"fmt"
	"net/mail"
	"net/smtp"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/mail/mailtest"
)

// TestEmailEndToEnd runs the real binary with its SMTP receiver: mail delivered by a real SMTP
// client (swaks) opens a conversation, the agent's reply leaves through the relay with our
// threading headers, the customer's mail program answers it into the same conversation, and
// after a crash and restart a redelivery of the same mail adds nothing.
func TestEmailEndToEnd(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("swaks is not installed; CI must install it (apt-get install swaks)")
		}
		t.Skip("swaks not installed")
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			sink := mailtest.Start(t)
			smtpAddr := freeAddr(t)
			env := append(e.env, "PARLEY_ADMIN_EMAIL=owner@example.com", "PARLEY_ADMIN_PASSWORD=correct horse battery",
				"PARLEY_SMTP_ADDR="+smtpAddr, "PARLEY_INBOUND_DOMAIN=in.parley.test", "PARLEY_SMTP_RELAY="+sink.URL)
			srv := startServer(t, freeAddr(t), env)
			token := strings.TrimSpace(cli(t, env, "token", "create", "--email", "owner@example.com", "--name", "email-e2e"))

			var ib struct {
				ID               int64  `json:"id"`
				ReceivingAddress string `json:"receiving_address"`
			}
			mustCall(t, "POST", srv.url("/api/v1/inboxes"), token, map[string]any{"name": "Help Desk", "access": "everyone"}, &ib)
			if ib.ReceivingAddress != "help-desk@in.parley.test" {
				t.Fatalf("receiving address %q", ib.ReceivingAddress)
			}
			mustCall(t, "POST", srv.url("/api/v1/channels"), token, map[string]any{"kind": "email", "inbox_id": ib.ID,
				"address": "help@acme.example", "company_name": "Acme"}, nil)

			host, port, _ := strings.Cut(smtpAddr, ":")
			out, err := exec.Command(swaks, "--server", host, "--port", port, "--timeout", "10",
				"--from", "kim@customer.example", "--to", ib.ReceivingAddress,
				"--header", "Subject: Printer on fire", "--header", "Message-Id: <swaks.1@customer.example>",
				"--header", "To: help@acme.example", "--body", "It is really on fire.").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "<~  250") && !strings.Contains(string(out), "<-  250") {
				t.Fatalf("swaks: %v\n%s", err, out)
			}
			if strings.Contains(string(out), "<** ") {
				t.Fatalf("swaks saw an error:\n%s", out)
			}

			conv := waitConversation(t, srv, token, "Printer on fire")
			var sent struct {
				ID int64 `json:"id"`
			}
			mustCall(t, "POST", srv.url(fmt.Sprintf("/api/v1/conversations/%d/messages", conv)), token,
				map[string]any{"text": "Please step away from the printer."}, &sent)
			reply := sink.Next(t)
			if reply.Header.Get("In-Reply-To") != "<swaks.1@customer.example>" || !strings.Contains(reply.Header.Get("To"), "kim@customer.example") ||
				!strings.Contains(reply.Header.Get("From"), "help@acme.example") {
				t.Fatalf("reply headers %v", reply.Header)
			}
			ourID := reply.Header.Get("Message-Id")
			rt, err := mail.ParseAddress(reply.Header.Get("Reply-To"))
			if err != nil {
				t.Fatalf("Reply-To %q: %v", reply.Header.Get("Reply-To"), err)
			}
			replyTo := rt.Address

			// The customer's mail program answers: To the Reply-To, In-Reply-To our Message-ID.
			answer := fmt.Sprintf("From: Kim <kim@customer.example>\r\nTo: %s\r\nSubject: Re: Printer on fire\r\nMessage-ID: <kim.2@customer.example>\r\nIn-Reply-To: %s\r\nReferences: <swaks.1@customer.example> %s\r\n\r\nDone, thanks.\r\n\r\nOn Monday Acme wrote:\r\n> Please step away from the printer.\r\n", replyTo, ourID, ourID)
			if err := smtp.SendMail(smtpAddr, nil, "kim@customer.example", []string{replyTo}, []byte(answer)); err != nil {
				t.Fatalf("answer: %v", err)
			}
			waitMessages(t, srv, token, conv, 3)

			// Crash, restart, and the same mail delivered again is not a new message.
			srv.kill()
			srv.start()
			if err := smtp.SendMail(smtpAddr, nil, "kim@customer.example", []string{replyTo}, []byte(answer)); err != nil {
				t.Fatalf("redelivery: %v", err)
			}
			if n := countMessages(t, srv, token, conv); n != 3 {
				t.Fatalf("after redelivery the conversation has %d messages, want 3", n)
			}
			// A stranger's address at our domain is refused: we are not a relay.
			if err := smtp.SendMail(smtpAddr, nil, "x@y.example", []string{"nobody@in.parley.test"}, []byte("Subject: x\r\n\r\nx\r\n")); err == nil || !strings.Contains(err.Error(), "550") {
				t.Fatalf("unknown recipient: %v", err)
			}
		})
	}
}

func waitConversation(t *testing.T, srv *server, token, subject string) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Data []struct {
				ID      int64  `json:"id"`
				Subject string `json:"subject"`
			} `json:"data"`
		}
		mustCall(t, "GET", srv.url("/api/v1/conversations"), token, nil, &list)
		for _, c := range list.Data {
			if c.Subject == subject {
				return c.ID
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no conversation %q", subject)
	return 0
}

func countMessages(t *testing.T, srv *server, token string, conv int64) int {
	t.Helper()
	var tl struct {
		Data []struct {
			Kind string `json:"kind"`
		} `json:"data"`
	}
	mustCall(t, "GET", srv.url(fmt.Sprintf("/api/v1/conversations/%d/timeline", conv)), token, nil, &tl)
	n := 0
	for _, it := range tl.Data {
		if it.Kind == "message" {
			n++
		}
	}
	return n
}

func waitMessages(t *testing.T, srv *server, token string, conv int64, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if countMessages(t, srv, token, conv) >= want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("conversation %d never reached %d messages", conv, want)
}
