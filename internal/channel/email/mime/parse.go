package mime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/text/encoding/charmap"
)

// Address is one mailbox from an address header.
type Address struct {
	Name    string // display name, decoded; may be empty
	Address string // addr-spec as written (local part case kept, domain lowercased)
}

// String formats the address for display, e.g. `Jane Doe <jane@example.com>`.
func (a Address) String() string {
	if a.Name == "" {
		return a.Address
	}
	name := a.Name
	if strings.ContainsAny(name, `",;:<>@()[]\`) {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + a.Address + ">"
}

// Message is a parsed email, normalized for the email channel.
type Message struct {
	From    Address
	To      []Address
	Cc      []Address
	ReplyTo []Address

	Subject string    // decoded (RFC 2047) to UTF-8
	Date    time.Time // zero when missing or unparseable

	// Message ids are stored without angle brackets.
	MessageID  string
	InReplyTo  []string
	References []string // oldest first, as in the header

	Text string // plain text body in UTF-8 (converted from HTML when the mail has no text part)
	HTML string // sanitized HTML body; empty when the mail has no HTML part

	// Attachments holds every non-body part: real attachments, inline
	// images (Inline, with ContentID), calendar invites, attached messages.
	Attachments []Part

	// Header is the top-level header as received (values not decoded),
	// for classification and threading (Delivered-To, X-Original-To …).
	Header textproto.MIMEHeader

	// Warnings lists what was wrong with the message and repaired or
	// skipped while parsing (bad charset, broken base64 …).
	Warnings []string

	root *enmime.Part
}

// Part is an attachment or inline part.
type Part struct {
	Name        string // file name; a generated one when the mail gave none
	ContentType string // media type without parameters, lowercased
	ContentID   string // without angle brackets; set for parts referenced by cid:
	Inline      bool   // shown inside the body rather than listed as a file
	Data        []byte // decoded content
}

// Size is the decoded size in bytes.
func (p Part) Size() int { return len(p.Data) }

// Open returns a reader over the decoded content.
func (p Part) Open() io.Reader { return bytes.NewReader(p.Data) }

// parser is lenient: skip parts that cannot be read, keep the readable
// remains of corrupt base64 text, accept multipart without a boundary as a
// single part, and repair media types. Charset detection is off because a
// declared charset is right far more often than a guess on short mail
// (guessing confuses ISO-8859-1 with Windows-1252); undeclared text is still
// detected.
var parser = enmime.NewParser(
	enmime.SkipMalformedParts(true),
	enmime.MultipartWOBoundaryAsSinglePart(true),
	enmime.SetReadPartErrorPolicy(enmime.AllowCorruptTextPartErrorPolicy),
	enmime.StripMediaTypeInvalidCharacters(true),
	enmime.DisableCharacterDetection(true),
)

// ErrEmpty is returned for input without any header.
var ErrEmpty = errors.New("mime: empty message")

// ErrTooDeep is returned for multipart structure nested deeper than mail is.
var ErrTooDeep = errors.New("mime: multipart parts nested too deeply")

// enmime reads a part nested d levels deep through d boundary readers that each copy it byte
// by byte, so parsing costs about depth × size: 140 KB nested 2,000 deep took ten seconds, 20
// MB nested 50 deep thirty. Real mail nests a handful of levels (a list footer around a
// signature around mixed, related and alternative parts is five), so Parse refuses more than
// maxNesting levels, and more than maxNestingWork depth × bytes: five levels of the largest
// mail the receiver takes, a few seconds of work at most.
const (
	maxNesting     = 50
	maxNestingWork = 160 << 20
)

// nestingDepth returns how deeply the multipart parts of raw nest, at most limit. It follows
// boundaries line by line in linear time, erring towards deeper: a Content-Type with a
// boundary parameter counts as multipart whatever its type says, a line that only starts
// like a delimiter still opens a part's header, and a level ends only at its own close
// delimiter or at a delimiter of a level around it, as it does for enmime.
func nestingDepth(raw []byte, limit int) int {
	var open [][]byte // boundaries of the enclosing multiparts, innermost last
	depth := 0
	inHeader := true // the message's header, then each part's
	var contentType []byte
	inContentType := false
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if inHeader {
			switch {
			case len(bytes.TrimSpace(line)) == 0:
				inHeader, inContentType = false, false
				if b := boundaryParam(contentType); b != nil {
					open = append(open, b)
					if depth = max(depth, len(open)); depth >= limit {
						return depth
					}
				}
				contentType = contentType[:0]
			case line[0] == ' ' || line[0] == '\t':
				if inContentType {
					contentType = append(append(contentType, ' '), line...)
				}
			default:
				name, value, _ := bytes.Cut(line, []byte(":"))
				inContentType = bytes.EqualFold(bytes.TrimSpace(name), []byte("content-type"))
				if inContentType {
					contentType = append(append(contentType, ' '), value...)
				}
			}
			continue
		}
		if !bytes.HasPrefix(line, []byte("--")) {
			continue
		}
		for i := len(open) - 1; i >= 0; i-- {
			rest, ok := bytes.CutPrefix(line[2:], open[i])
			if !ok {
				continue
			}
			if bytes.HasPrefix(rest, []byte("--")) && len(bytes.TrimSpace(rest[2:])) == 0 {
				open = open[:i] // this level's close delimiter
			} else {
				open, inHeader = open[:i+1], true // a new part of this level
			}
			break
		}
	}
	return depth
}

// boundaryParam returns the boundary parameter of a Content-Type value, or nil.
func boundaryParam(v []byte) []byte {
	m := boundaryRe.FindSubmatch(v)
	if m == nil {
		return nil
	}
	b := m[1]
	if b == nil {
		b = m[2]
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

var boundaryRe = regexp.MustCompile(`(?i)boundary\s*=\s*(?:"([^"]*)"|([^\s;]+))`)

// Parse reads a raw RFC 5322 message. It only fails when the input cannot be
// read as a message at all; damaged headers and parts are repaired or
// skipped and listed in Message.Warnings.
func Parse(r io.Reader) (*Message, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mime: read: %w", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, ErrEmpty
	}
	if d := nestingDepth(raw, maxNesting+1); d > maxNesting || d*len(raw) > maxNestingWork {
		return nil, fmt.Errorf("%w: %d levels in %d bytes", ErrTooDeep, d, len(raw))
	}
	env, err := parser.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		// Last resort for structure enmime refuses: treat the whole body as text.
		env2, err2 := parser.ReadEnvelope(bytes.NewReader(flattenContentType(raw)))
		if err2 != nil {
			return nil, fmt.Errorf("mime: parse: %w", err)
		}
		env = env2
		env.Errors = append(env.Errors, &enmime.Error{Name: "Malformed MIME", Detail: err.Error()})
	}

	m := &Message{Header: env.Root.Header, root: env.Root}
	m.Subject = cleanHeaderText(env.GetHeader("Subject"))
	m.From = first(addressList(env, "From"))
	if m.From.Address == "" {
		m.From = first(addressList(env, "Sender"))
	}
	m.To = addressList(env, "To")
	m.Cc = addressList(env, "Cc")
	m.ReplyTo = addressList(env, "Reply-To")
	if d, err := env.Date(); err == nil {
		m.Date = d.UTC()
	} else if d, ok := parseLooseDate(env.GetHeader("Date")); ok {
		m.Date = d
	}
	if ids := messageIDs(env.Root.Header.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = messageIDs(env.Root.Header.Get("In-Reply-To"))
	m.References = messageIDs(strings.Join(env.Root.Header.Values("References"), " "))

	if rootCT := env.Root.ContentType; env.Text == "" && env.HTML == "" && env.Root.FirstChild == nil &&
		(strings.HasPrefix(rootCT, "multipart/") || strings.HasPrefix(rootCT, "text/")) && utf8.Valid(env.Root.Content) {
		// A broken Content-Type (multipart without parts, unknown
		// encoding) left the body unclassified; show it as text.
		env.Text = string(env.Root.Content)
	}
	m.Text = fixC1(normalizeNewlines(env.Text))
	if env.HTML != "" {
		m.HTML = Sanitize(fixC1(env.HTML))
	}
	m.Attachments = collectParts(env)
	for _, e := range env.Errors {
		m.Warnings = append(m.Warnings, e.Error())
	}
	return m, nil
}

// flattenContentType rewrites the top-level Content-Type to text/plain so a
// message with hopeless MIME structure can still be shown as text.
func flattenContentType(raw []byte) []byte {
	end := bytes.Index(raw, []byte("\n\n"))
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 && (end < 0 || i < end) {
		end = i
	}
	if end < 0 {
		return raw
	}
	lines := strings.Split(string(raw[:end]), "\n")
	var out []string
	skipping := false
	for _, l := range lines {
		if skipping && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
			continue
		}
		skipping = false
		lower := strings.ToLower(l)
		if strings.HasPrefix(lower, "content-type:") || strings.HasPrefix(lower, "content-transfer-encoding:") {
			skipping = true
			continue
		}
		out = append(out, l)
	}
	out = append(out, "Content-Type: text/plain; charset=utf-8")
	return append([]byte(strings.Join(out, "\n")), raw[end:]...)
}

func first(as []Address) Address {
	if len(as) == 0 {
		return Address{}
	}
	return as[0]
}

var addrSpec = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?`)

// addressList parses an address header, falling back to picking addr-specs
// out of the text when the header is not valid RFC 5322.
func addressList(env *enmime.Envelope, key string) []Address {
	list, err := env.AddressList(key)
	var out []Address
	if err == nil {
		for _, a := range list {
			if a == nil || a.Address == "" {
				continue
			}
			out = append(out, Address{Name: cleanHeaderText(a.Name), Address: normalizeAddr(a.Address)})
		}
		return out
	}
	raw := env.GetHeader(key)
	for _, loc := range addrSpec.FindAllStringIndex(raw, -1) {
		a := Address{Address: normalizeAddr(raw[loc[0]:loc[1]])}
		if len(out) == 0 {
			// Keep a display name for the first one: the text before it, without quotes and brackets.
			name := strings.Trim(strings.TrimSpace(raw[:loc[0]]), `"'<> ,`)
			if !strings.Contains(name, "@") {
				a.Name = name
			}
		}
		out = append(out, a)
	}
	return out
}

func normalizeAddr(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i+1] + strings.ToLower(s[i+1:])
	}
	return s
}

// cleanHeaderText folds whitespace and drops control characters left in a
// decoded header.
func cleanHeaderText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 0x80 && r <= 0x9f {
			return windows1252(r)
		}
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

var msgIDRe = regexp.MustCompile(`<([^<>\s]+)>`)

// messageIDs extracts the ids of a Message-ID, In-Reply-To or References
// header. Ids without angle brackets (seen from broken clients) are accepted
// when the header has no bracketed id at all.
func messageIDs(v string) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		id = strings.Trim(id, " \t<>,;\"'")
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if ms := msgIDRe.FindAllStringSubmatch(v, -1); len(ms) > 0 {
		for _, m := range ms {
			add(m[1])
		}
		return ids
	}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '\r' || r == '\n' }) {
		if strings.Contains(f, "@") {
			add(f)
		}
	}
	return ids
}

var looseDateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
}

func parseLooseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, " ("); i > 0 { // trailing comment like "(UTC)"
		s = s[:i]
	}
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range looseDateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// fixC1 repairs text labelled ISO-8859-1 (or US-ASCII) that really is
// Windows-1252, as Outlook and many web forms send it: decoding it as
// Latin-1 leaves C1 control characters where the euro sign and curly quotes
// should be. WHATWG's encoding standard makes the same substitution.
func fixC1(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 && r <= 0x9f }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= 0x80 && r <= 0x9f {
			return windows1252(r)
		}
		return r
	}, s)
}

func windows1252(r rune) rune {
	if d := charmap.Windows1252.DecodeByte(byte(r)); d != utf8.RuneError {
		return d
	}
	return r
}

func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// collectParts gathers attachments, inline parts and other non-body parts
// (calendar invites in multipart/alternative, attached messages) once each.
func collectParts(env *enmime.Envelope) []Part {
	var out []Part
	seen := map[*enmime.Part]bool{}
	add := func(p *enmime.Part, inline bool) {
		if p == nil || seen[p] || strings.HasPrefix(p.ContentType, "multipart/") {
			return
		}
		seen[p] = true
		ct := strings.ToLower(p.ContentType)
		if ct == "" {
			ct = "application/octet-stream"
		}
		if inline && p.ContentID == "" && (ct == "text/plain" || ct == "text/html") {
			// Inline text parts (Apple Mail) are part of the body already.
			return
		}
		out = append(out, Part{
			Name:        partName(p, ct, len(out)+1),
			ContentType: ct,
			ContentID:   strings.Trim(strings.TrimSpace(p.ContentID), "<>"),
			Inline:      inline && p.ContentID != "" || p.Disposition == "" && p.ContentID != "" && strings.HasPrefix(ct, "image/"),
			Data:        p.Content,
		})
	}
	for _, p := range env.Attachments {
		add(p, false)
	}
	for _, p := range env.Inlines {
		add(p, true)
	}
	for _, p := range env.OtherParts {
		add(p, false)
	}
	return out
}

// partName returns the part's file name without any directory, or a
// generated one ("invite.ics", "attachment-2.pdf").
func partName(p *enmime.Part, ct string, n int) string {
	name := strings.TrimSpace(cleanHeaderText(p.FileName))
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	if name != "" && name != "." && name != "/" && name != ".." {
		return name
	}
	switch ct {
	case "text/calendar":
		return "invite.ics"
	case "message/rfc822":
		return fmt.Sprintf("message-%d.eml", n)
	}
	return fmt.Sprintf("attachment-%d%s", n, extensions[ct])
}

// extensions names generated files for common types; others get none.
var extensions = map[string]string{
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
	"application/pdf": ".pdf", "text/plain": ".txt", "text/html": ".html",
	"message/delivery-status": ".txt", "text/rfc822-headers": ".txt",
}
