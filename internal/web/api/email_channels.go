package api

import (
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/problem"
)

// maxInboundEmail bounds a raw message posted to the inbound webhook (the SMTP receiver's
// default size limit, plus room for a multipart envelope).
const maxInboundEmail = 30 << 20

// emailChannelRoutes: connecting team email (SPEC EMAIL-1…9) and the raw-MIME webhook that
// mail providers' inbound routes post to.
func emailChannelRoutes() []Route {
	const small = 64 << 10
	return []Route{
		{Method: http.MethodPost, Pattern: "/api/v1/channels", Access: Admin, MaxBody: small, Handle: createChannel},
		{Method: http.MethodGet, Pattern: "/api/v1/channels/{id}", Access: Signed, Scope: ScopeChannel, Handle: getChannel},
		{Method: http.MethodPatch, Pattern: "/api/v1/channels/{id}", Access: Admin, MaxBody: small, Handle: patchChannel},
		{Method: http.MethodPost, Pattern: "/api/v1/channels/{id}/test-email", Access: Admin, Handle: sendTestEmail},
		// The webhook authenticates with the channel's secret, not a user: providers post as
		// themselves.
		{Method: http.MethodPost, Pattern: "/api/v1/channels/{id}/inbound-email", Access: Public, MaxBody: maxInboundEmail, Handle: inboundEmail},
	}
}

func (s *Server) email() (*email.Service, error) {
	if s.Email == nil {
		return nil, problem.New(problem.Unavailable, "email_unavailable", "email channels are not configured on this server")
	}
	return s.Email, nil
}

// emailWithID is the path's {id} (a channel's) and the email service.
func (s *Server) emailWithID(r *http.Request) (*email.Service, int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	e, err := s.email()
	return e, id, err
}

// emailChannelBody is the JSON of POST and PATCH: absent fields keep their value on PATCH.
type emailChannelBody struct {
	Kind                string              `json:"kind"`
	InboxID             int64               `json:"inbox_id"`
	Name                *string             `json:"name"`
	Address             *string             `json:"address"`
	FromName            *string             `json:"from_name"`
	CompanyName         *string             `json:"company_name"`
	SignatureHTML       *string             `json:"signature_html"`
	LogToOriginalSender *bool               `json:"log_to_original_sender"`
	Filters             *email.FilterRules  `json:"filters"`
	IMAP                *email.IMAPSettings `json:"imap"`
	SMTP                *email.SMTPSettings `json:"smtp"`
	DKIM                *email.DKIMSettings `json:"dkim"`
	// RemoveIMAP, RemoveSMTP and RemoveDKIM drop the stored settings (PATCH with "imap": null keeps them,
	// as absent fields do, so removal is explicit).
	RemoveIMAP bool `json:"remove_imap"`
	RemoveSMTP bool `json:"remove_smtp"`
	RemoveDKIM bool `json:"remove_dkim"`
}

func (b emailChannelBody) input() email.ChannelInput {
	return email.ChannelInput{InboxID: b.InboxID, Name: b.Name, Address: b.Address, FromName: b.FromName,
		CompanyName: b.CompanyName, SignatureHTML: b.SignatureHTML, LogToOriginalSender: b.LogToOriginalSender,
		Filters: b.Filters, IMAP: b.IMAP, SMTP: b.SMTP, DKIM: b.DKIM, RemoveIMAP: b.RemoveIMAP, RemoveSMTP: b.RemoveSMTP,
		RemoveDKIM: b.RemoveDKIM}
}

// emailChannelJSON is a channel with its email settings and state. Secrets are only shown to
// admins; passwords never.
type emailChannelJSON struct {
	channelJSON
	Email *emailJSON `json:"email,omitempty"`
}

type emailJSON struct {
	Address             string              `json:"address"`
	ReceivingAddress    string              `json:"receiving_address"`
	FromName            string              `json:"from_name"`
	CompanyName         string              `json:"company_name"`
	SignatureHTML       string              `json:"signature_html"`
	LogToOriginalSender bool                `json:"log_to_original_sender"`
	Filters             email.FilterRules   `json:"filters"`
	IMAP                *email.IMAPSettings `json:"imap"`
	SMTP                *email.SMTPSettings `json:"smtp"`
	IMAPPasswordSet     bool                `json:"imap_password_set"`
	SMTPPasswordSet     bool                `json:"smtp_password_set"`
	DKIM                *email.DKIMSettings `json:"dkim"`
	DKIMKeySet          bool                `json:"dkim_key_set"`
	// WebhookSecret is shown to admins only.
	WebhookSecret string      `json:"webhook_secret,omitempty"`
	State         email.State `json:"state"`
}

func toEmailChannelJSON(v *email.View, admin bool) emailChannelJSON {
	c := v.Channel
	out := emailChannelJSON{channelJSON: toChannelJSON(c)}
	st := v.Settings
	e := &emailJSON{Address: st.Address, ReceivingAddress: v.ReceivingAddress, FromName: st.FromName,
		CompanyName: st.CompanyName, SignatureHTML: st.SignatureHTML, LogToOriginalSender: st.LogToOriginalSender,
		Filters: st.Filters, IMAP: st.IMAP, SMTP: st.SMTP, IMAPPasswordSet: v.IMAPPasswordSet,
		SMTPPasswordSet: v.SMTPPasswordSet, DKIM: st.DKIM, DKIMKeySet: v.DKIMKeySet, State: v.State}
	if admin {
		e.WebhookSecret = st.WebhookSecret
	} else if e.State.Test != nil {
		test := *e.State.Test
		test.Token = ""
		e.State.Test = &test
	}
	out.Email = e
	return out
}

func createChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	if kind, err := bodyKind(r); err != nil {
		return err
	} else if kind == chat.Kind {
		return createChatChannel(s, w, r)
	}
	var body emailChannelBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Kind != email.Kind {
		// Custom channel accounts are made through the custom channels API (their integration
		// registers them); the other kinds come with their own issues.
		return problem.Field("unsupported_channel_kind", "kind", "must be email or chat (custom channel accounts are created with /api/v1/custom-channels)")
	}
	e, err := s.email()
	if err != nil {
		return err
	}
	v, err := e.CreateChannel(r.Context(), caller(r), body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toEmailChannelJSON(v, true))
	return nil
}

func getChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ch, err := s.Inbox.Channel(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	if ch.Kind == chat.Kind && s.Chat != nil {
		v, err := s.Chat.Channel(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toChatChannelJSON(v, caller(r).IsAdmin()))
		return nil
	}
	if ch.Kind != email.Kind || s.Email == nil {
		writeJSON(w, http.StatusOK, toChannelJSON(ch))
		return nil
	}
	v, err := s.Email.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEmailChannelJSON(v, caller(r).IsAdmin()))
	return nil
}

func patchChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if ch, err := s.Store.Channel(r.Context(), id); err == nil && ch.Kind == chat.Kind {
		return patchChatChannel(s, w, r, id)
	}
	var body emailChannelBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	e, err := s.email()
	if err != nil {
		return err
	}
	v, err := e.UpdateChannel(r.Context(), caller(r), id, body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEmailChannelJSON(v, true))
	return nil
}

func sendTestEmail(s *Server, w http.ResponseWriter, r *http.Request) error {
	e, id, err := s.emailWithID(r)
	if err != nil {
		return err
	}
	v, err := e.SendTest(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEmailChannelJSON(v, true))
	return nil
}

// inboundEmail takes one raw message from a mail provider's inbound route: the body is the
// message itself (message/rfc822, text/plain or application/octet-stream) or a multipart form
// carrying it in a field named email (SendGrid) or body-mime (Mailgun). The provider
// authenticates with the channel's webhook secret, as a bearer token or as the password of
// basic authentication (for providers that only take a URL with credentials). 200 means the
// message is committed; a retry of the same message changes nothing.
func inboundEmail(s *Server, w http.ResponseWriter, r *http.Request) error {
	e, id, err := s.emailWithID(r)
	if err != nil {
		return err
	}
	bad := problem.New(problem.Unauthorized, "invalid_webhook_secret", "send the channel's webhook secret as a bearer token or basic-auth password")
	v, err := e.Channel(r.Context(), id)
	if err != nil {
		var p *problem.Error
		if errors.As(err, &p) && p.Kind == problem.NotFound {
			return bad // the same answer as a wrong secret: ids are not probed
		}
		return err
	}
	secret := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if _, pass, ok := r.BasicAuth(); ok {
		secret = pass
	}
	if v.Settings.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(v.Settings.WebhookSecret)) != 1 {
		return bad
	}
	raw, err := inboundRaw(r)
	if err != nil {
		return err
	}
	out, err := e.Receive(r.Context(), email.Delivery{ChannelID: id, Raw: raw})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message_id": out.MessageID, "conversation_id": out.ConversationID,
		"duplicate": out.Duplicate, "filed": out.Filed})
	return nil
}

func inboundRaw(r *http.Request) ([]byte, error) {
	tooLarge := func(err error) error {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem.New(problem.TooLarge, "email_too_large", "the message is larger than 30 MB")
		}
		return problem.Invalidf("unreadable_email", "the body cannot be read: %v", err)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, tooLarge(err)
		}
		return raw, nil
	}
	if err := r.ParseMultipartForm(maxInboundEmail); err != nil {
		if errors.Is(err, multipart.ErrMessageTooLarge) {
			return nil, problem.New(problem.TooLarge, "email_too_large", "the message is larger than 30 MB")
		}
		return nil, tooLarge(err)
	}
	for _, field := range []string{"email", "body-mime", "message"} {
		if v := r.FormValue(field); v != "" {
			return []byte(v), nil
		}
		if f, _, err := r.FormFile(field); err == nil {
			defer f.Close()
			raw, err := io.ReadAll(f)
			if err != nil {
				return nil, tooLarge(err)
			}
			return raw, nil
		}
	}
	return nil, problem.Field("unreadable_email", "email", "the form has no field email, body-mime or message with the raw message")
}
