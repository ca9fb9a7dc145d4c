package ui

// Email in the conversation (issue 5 item 7; SPEC EMAIL-4). On a conversation whose channel
// takes recipients (channel.Addressable: email) the timeline shows each mail's From address, its
// Cc (and, for the team's own mail, To and Bcc), its sanitized HTML in a box it cannot leave,
// with remote images parked until the agent loads them and inline (cid:) images pointing at the
// mail's files, its quoted history and signature folded behind "…", and its attachments once
// (an inline image is not listed again). The composer gets To, Cc and Bcc, a forward mode and
// a preview of the signature the reply will carry. Other channels get none of it.

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/channel/email/mime"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

// addressable returns the conversation's channel and whether its replies take recipients and
// forwards (the capability, not the kind, decides: see channel.Addressable).
func (s *Server) addressable(ctx context.Context, c *store.Conversation) (*store.Channel, bool, error) {
	if c.ChannelID == nil || s.Inbox == nil {
		return nil, false, nil
	}
	ch, err := s.Store.Channel(ctx, *c.ChannelID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	a, ok := s.Inbox.Senders[ch.Kind].(channel.Addressable)
	return ch, ok && a.Addressable(), nil
}

// --- the timeline -----------------------------------------------------------------------------

// emailTimeline renders the messages of one email conversation.
type emailTimeline struct {
	ConversationID int64
	// images are the messages whose remote images the agent chose to load (?images=1,2).
	images []int64
}

// emailEntry is what the timeline shows of an email besides its body.
type emailEntry struct {
	MessageID      int64
	ConversationID int64
	// From is the sender's address (the author's name is the entry's Author).
	From string
	// To and Bcc are shown for the team's own mail; Cc for every mail.
	To, Cc, Bcc []string
	// Forward marks an agent's forward to a third party.
	Forward bool
	// Fold is the signature and quoted history, folded behind "…"; FoldHTML says whether it
	// is HTML (else escaped plain text).
	Fold     template.HTML
	FoldHTML bool
	// RemoteImages is set while the HTML has remote images not loaded; ImagesURL loads them
	// (htmx, the whole timeline) and ImagesPage is the same for a browser without scripts.
	RemoteImages bool
	ImagesURL    string
	ImagesPage   string
}

// maxImageMessages bounds how many messages' images ?images= loads: more than an agent clicks.
const maxImageMessages = 100

// emailTimelineFor returns the email rendering of c's timeline, or nil when c is not email.
func (s *Server) emailTimelineFor(r *http.Request, c *store.Conversation) (*emailTimeline, error) {
	_, ok, err := s.addressable(r.Context(), c)
	if err != nil || !ok {
		return nil, err
	}
	et := &emailTimeline{ConversationID: c.ID}
	for _, v := range strings.Split(r.URL.Query().Get("images"), ",") {
		if len(et.images) == maxImageMessages {
			// The list is checked for each id and repeated in every message's link: a URL of
			// a hundred thousand ids cost seconds and megabytes per message.
			break
		}
		if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && id > 0 && !slices.Contains(et.images, id) {
			et.images = append(et.images, id)
		}
	}
	return et, nil
}

// Query is the timeline's own query (the loaded images), kept by its live refreshes.
func (et *emailTimeline) Query() string {
	if len(et.images) == 0 {
		return ""
	}
	return "?images=" + joinIDs(et.images)
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// emailSender is what a message's sender JSON holds: who sent a received mail, or for the
// team's own mail the agent and what it forwards.
type emailSender struct {
	Name      string `json:"name"`
	Email     string `json:"email"`
	ForwardOf int64  `json:"forward_of"`
}

// emailRecipient is one entry of a message's recipients JSON.
type emailRecipient struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// emailFile is one entry of a message's attachments JSON: a received mail's parts
// (email.ReceivedFile) or an uploaded file of the team's own mail.
type emailFile struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	ContentID   string `json:"content_id"`
	Inline      bool   `json:"inline"`
}

// message fills e with m's email parts: body and fold, addresses, images and files.
func (et *emailTimeline) message(b *timelineBuilder, e *timelineEntry, m *store.Message) {
	ee := &emailEntry{MessageID: m.ID, ConversationID: et.ConversationID}
	var sender emailSender
	_ = json.Unmarshal(m.Sender, &sender) // an unreadable sender only hides the address
	var rcpts []emailRecipient
	_ = json.Unmarshal(m.Recipients, &rcpts)
	if m.Direction == "inbound" {
		ee.From = sender.Email
	} else {
		ee.Forward = sender.ForwardOf > 0
	}
	for _, r := range rcpts {
		a := displayAddress(r.Name, r.Email)
		switch {
		case r.Kind == "cc":
			ee.Cc = append(ee.Cc, a)
		case m.Direction == "inbound":
			// A received mail's To is the team address: nothing to tell.
		case r.Kind == "bcc":
			ee.Bcc = append(ee.Bcc, a)
		default:
			ee.To = append(ee.To, a)
		}
	}
	var list []emailFile
	_ = json.Unmarshal(m.Attachments, &list) // unreadable: no files and no inline images

	var cids map[string]bool
	if m.HTML != "" {
		// Balanced again here, for mail stored before Sanitize balanced it: an open <a> or
		// a stray </div> would reach out of the message's box into the page around it.
		html := mime.Balance(m.HTML)
		if slices.Contains(et.images, m.ID) {
			html = mime.LoadRemoteImages(html)
		}
		html, cids = inlineImages(html, list)
		ee.RemoteImages = strings.Contains(html, "data-src=")
		split := mime.SplitHTML(html)
		if (split.Quoted == "" || split.Forward) && split.Signature == "" || blankHTML(split.Body) {
			e.Body = messageHTML(m.ID, html)
		} else {
			e.Body = messageHTML(m.ID, split.Body)
			fold := split.Signature
			if !split.Forward {
				fold += split.Quoted
			} else {
				e.Body += messageHTML(m.ID, split.Quoted)
			}
			ee.Fold, ee.FoldHTML = messageHTML(m.ID, fold), true
		}
		e.HTML = true
	} else {
		split := mime.SplitText(m.Text)
		if (split.Quoted == "" || split.Forward) && split.Signature == "" || strings.TrimSpace(split.Body) == "" {
			e.Body = template.HTML(template.HTMLEscapeString(m.Text))
		} else {
			body, fold := split.Body, strings.TrimSpace(split.Signature)
			if split.Forward {
				body += "\n\n" + split.Quoted
			} else if split.Quoted != "" {
				fold = strings.TrimSpace(fold + "\n\n" + split.Quoted)
			}
			e.Body = template.HTML(template.HTMLEscapeString(body))
			ee.Fold = template.HTML(template.HTMLEscapeString(fold))
		}
	}
	if ee.RemoteImages {
		q := joinIDs(append(slices.Clone(et.images), m.ID))
		ee.ImagesURL = "/conversations/" + strconv.FormatInt(et.ConversationID, 10) + "/timeline?images=" + q
		ee.ImagesPage = "/inbox/" + strconv.FormatInt(et.ConversationID, 10) + "?images=" + q
	}
	e.Attachments = emailAttachments(b.pg, list, cids)
	e.Email = ee
}

// displayAddress is "Ana Berg <ana@example.com>", or the bare address without a name.
func displayAddress(name, addr string) string {
	if name = strings.TrimSpace(name); name == "" || strings.EqualFold(name, addr) {
		return addr
	}
	return name + " <" + addr + ">"
}

// inlineImages points every cid: image of sanitized mail HTML at the file of its part and
// returns the content ids it used, so those parts are not listed again as attachments. A cid:
// with no part is left as it is (the browser shows the image's alt text).
func inlineImages(html string, list []emailFile) (string, map[string]bool) {
	if !strings.Contains(html, "cid:") {
		return html, nil
	}
	byCID := map[string]emailFile{}
	for _, f := range list {
		if f.ContentID != "" && f.ID != "" {
			byCID[normalizeCID(f.ContentID)] = f
		}
	}
	used := map[string]bool{}
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(html))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := z.Raw()
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			b.Write(raw)
			continue
		}
		tok := z.Token()
		changed := false
		if tok.Data == "img" {
			for i, a := range tok.Attr {
				if a.Key != "src" || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "cid:") {
					continue
				}
				cid := normalizeCID(strings.TrimSpace(a.Val)[len("cid:"):])
				if f, ok := byCID[cid]; ok {
					tok.Attr[i].Val = files.PathOf(f.ID, f.Name)
					used[cid], changed = true, true
				}
			}
		}
		if changed {
			b.WriteString(tok.String())
		} else {
			b.Write(raw)
		}
	}
	return b.String(), used
}

// normalizeCID compares Content-IDs as RFC 2392 allows them to be written: with or without
// angle brackets, %-encoded in cid: URLs, in any case.
func normalizeCID(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return strings.ToLower(s)
}

// blankHTML reports whether HTML shows nothing: no text and no image.
func blankHTML(s string) bool {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return true
		case xhtml.TextToken:
			if strings.TrimSpace(strings.ReplaceAll(string(z.Text()), "\u00a0", " ")) != "" {
				return false
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			if name, _ := z.TagName(); string(name) == "img" {
				return false
			}
		}
	}
}

// emailAttachments lists a mail's files with their download links; the parts its HTML shows
// inline (cids) are left out.
func emailAttachments(pg *Page, list []emailFile, cids map[string]bool) []attachmentView {
	out := make([]attachmentView, 0, len(list))
	for _, a := range list {
		if a.ContentID != "" && cids[normalizeCID(a.ContentID)] {
			continue
		}
		if a.Name == "" && a.URL == "" {
			continue
		}
		name, link := a.Name, ""
		switch {
		case a.ID != "" && (a.URL == "" || strings.Contains(a.URL, files.PathOf(a.ID, a.Name))):
			// One of our files: the conversation's people download it at its path.
			link = files.PathOf(a.ID, a.Name)
		case webLink(a.URL):
			link = a.URL
		}
		if name == "" {
			name = a.URL[strings.LastIndex(a.URL, "/")+1:]
		}
		v := attachmentView{Name: name, URL: link, Image: strings.HasPrefix(strings.ToLower(a.ContentType), "image/") && link != ""}
		if a.Size > 0 {
			v.Size = localSize(pg, a.Size)
		}
		out = append(out, v)
	}
	return out
}

// --- the composer -----------------------------------------------------------------------------

// composerEmail is the composer's email part: recipients, forwarding and the signature.
type composerEmail struct {
	// Contact is the To field's placeholder: where a reply goes when To is left empty.
	Contact string
	// Signature is the team signature as this agent's replies carry it, on one line.
	Signature string
	// ForwardOf and ForwardFrom open the composer in forward mode (?forward=<message id>, the
	// "Forward" link for browsers without scripts).
	ForwardOf   int64
	ForwardFrom string
}

// composerEmailFor builds the composer's email part, or nil when c's channel takes no
// recipients.
func (s *Server) composerEmailFor(r *http.Request, pg *Page, c *store.Conversation) (*composerEmail, error) {
	ctx := r.Context()
	ch, ok, err := s.addressable(ctx, c)
	if err != nil || !ok {
		return nil, err
	}
	ce := &composerEmail{}
	if c.ContactID != nil {
		ct, err := s.Store.Contact(ctx, *c.ContactID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if ct != nil {
			for _, id := range ct.Identities {
				if id.Kind == "email" {
					ce.Contact = displayAddress(ct.Name, id.Value)
					break
				}
			}
		}
	}
	if ch.Kind == email.Kind {
		st, err := email.ChannelSettings(ch)
		if err != nil {
			return nil, err
		}
		ib, err := s.Store.Inbox(ctx, c.InboxID)
		if err != nil {
			return nil, err
		}
		_, text, _ := email.Preview(st, user(r), ib.Name)
		ce.Signature = strings.Join(strings.Fields(strings.ReplaceAll(text, "\n", " · ")), " ")
		ce.Signature = strings.ReplaceAll(ce.Signature, "· ·", "·")
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("forward"), 10, 64); err == nil && id > 0 {
		if m, err := s.Store.Message(ctx, id); err == nil && m.ConversationID == c.ID {
			ce.ForwardOf = id
			var sender emailSender
			_ = json.Unmarshal(m.Sender, &sender)
			ce.ForwardFrom = sender.Name
			if ce.ForwardFrom == "" {
				ce.ForwardFrom = sender.Email
			}
			if ce.ForwardFrom == "" {
				ce.ForwardFrom = pg.T("timeline.customer")
			}
		}
	}
	return ce, nil
}

// recipientsFromForm reads the composer's To, Cc and Bcc (comma- or semicolon-separated, with
// or without names) and the message being forwarded into in. Addresses are checked by the
// domain, which names the one it refuses.
func recipientsFromForm(r *http.Request, in *inbox.ReplyInput) {
	in.To = addressList(r.PostForm.Get("to"))
	in.Cc = addressList(r.PostForm.Get("cc"))
	in.Bcc = addressList(r.PostForm.Get("bcc"))
	if id, err := strconv.ParseInt(r.PostForm.Get("forward_of"), 10, 64); err == nil && id > 0 {
		in.ForwardOf = id
	}
}

// addressList splits a recipients field. A list that parses as RFC 5322 keeps names with
// commas in them ("Berg, Ana" <ana@example.com>); anything else is split at commas and
// semicolons and left for the domain to judge piece by piece.
func addressList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if list, err := mail.ParseAddressList(strings.ReplaceAll(v, ";", ",")); err == nil {
		out := make([]string, 0, len(list))
		for _, a := range list {
			out = append(out, a.String())
		}
		return out
	}
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
