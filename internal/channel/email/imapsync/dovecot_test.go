package imapsync

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/parley-inbox/parley/internal/channel/email/imapsync/imaptest"
)

// The tests run against a real Dovecot started by imaptest.

type dovecotOptions = imaptest.Options

type dovecot struct{ *imaptest.Server }

func startDovecot(t *testing.T, o dovecotOptions) *dovecot {
	t.Helper()
	return &dovecot{imaptest.StartDovecot(t, o)}
}

// config returns the fetcher settings for mailbox on this server, without encryption.
func (d *dovecot) config(mailbox string) Config {
	return Config{Host: imaptest.Host, Port: d.Port, Security: SecurityNone, Username: imaptest.User,
		Password: imaptest.Password, Mailbox: mailbox}
}

// testMessage is a small message whose Message-ID names it.
func testMessage(id string) []byte {
	return []byte("From: Ada <ada@example.org>\r\nTo: support@example.com\r\nSubject: message " + id +
		"\r\nMessage-ID: <" + id + "@test.example>\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nHello, this is " + id + ".\r\n")
}

// appendMessages APPENDs messages named prefix-0…prefix-(n-1) with the given INTERNALDATE.
func appendMessages(t *testing.T, c *imapclient.Client, mailbox, prefix string, n int, date time.Time) {
	t.Helper()
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = testMessage(fmt.Sprintf("%s-%d", prefix, i))
	}
	imaptest.Append(t, c, mailbox, date, msgs...)
}
