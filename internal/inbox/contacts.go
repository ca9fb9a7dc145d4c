package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Contacts belong to the workspace, not to an inbox, but what an agent may see of them follows
// their conversations (ACCESS-9): an agent sees a contact that has a conversation in an inbox
// they may see, or that has no conversation yet (created by hand). A contact known only from
// other inboxes is answered as not found, like a missing id. A contact shows only the
// conversations in inboxes the reader may see (CONV-12). Admins see every contact.

// ContactInput creates a contact.
type ContactInput struct {
	Name       string
	Company    string
	Emails     []string
	Phones     []string // E.164
	OwnerID    *int64
	Properties json.RawMessage // a JSON object
}

// ContactPatch changes a contact. Nil fields are left as they are.
type ContactPatch struct {
	Name    *string
	Company *string
	// OwnerID sets the owner; ClearOwner removes it (and wins over OwnerID).
	OwnerID    *int64
	ClearOwner bool
	Blocked    *bool
	// Properties is merged into the contact's properties: each key is set, a null value removes it.
	Properties   json.RawMessage
	AddEmails    []string
	RemoveEmails []string
	AddPhones    []string
	RemovePhones []string
}

// Field limits for contacts.
const (
	maxContactName = 200
	maxProperties  = 64 << 10
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// NormalizeEmail lower-cases and validates a bare email address.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || len(e) > 254 || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return "", problem.Field("invalid_email", "emails", strconv.Quote(s)+" is not an email address")
	}
	return e, nil
}

// NormalizePhone strips spacing punctuation and validates an E.164 number ("+" then 8–15 digits).
func NormalizePhone(s string) (string, error) {
	p := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.', '\t':
			return -1
		}
		return r
	}, s)
	if !e164.MatchString(p) {
		return "", problem.Field("invalid_phone", "phones", strconv.Quote(s)+" is not an E.164 phone number (+ and 8 to 15 digits)")
	}
	return p, nil
}

func identities(emails, phones []string) ([]store.Identity, error) {
	var out []store.Identity
	for _, e := range emails {
		v, err := NormalizeEmail(e)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Identity{Kind: "email", Value: v})
	}
	for _, p := range phones {
		v, err := NormalizePhone(p)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Identity{Kind: "phone", Value: v})
	}
	return out, nil
}

func validName(field, s string) (string, error) {
	s = strings.TrimSpace(cleanText(s))
	if utf8.RuneCountInString(s) > maxContactName {
		return "", problem.Field("invalid_"+field, field, "must be at most 200 characters")
	}
	return s, nil
}

func validProperties(raw json.RawMessage) (map[string]json.RawMessage, error) {
	bad := problem.Field("invalid_properties", "properties", "must be a JSON object of at most 64 KiB")
	if len(raw) > maxProperties {
		return nil, bad
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, bad
	}
	return m, nil
}

func (s *Service) checkOwner(ctx context.Context, tx *store.Tx, id int64) error {
	u, err := tx.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.DeactivatedAt != nil) {
		return problem.Field("owner_not_found", "owner_id", "is not an active user")
	}
	return err
}

// addIdentity records an identity for the contact, refusing one another contact holds.
func addIdentity(ctx context.Context, tx *store.Tx, contactID int64, id store.Identity) error {
	added, err := tx.AddContactIdentity(ctx, contactID, id)
	if err != nil || added {
		return err
	}
	holder, err := tx.ContactIDByIdentity(ctx, id)
	if err != nil {
		return err
	}
	if holder != contactID {
		return problem.Conflictf("identity_taken", "%s %s belongs to another contact", id.Kind, id.Value)
	}
	return nil
}

// CreateContact creates a contact with its emails and phones.
func (s *Service) CreateContact(ctx context.Context, actor *store.User, in ContactInput) (*store.Contact, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	name, err := validName("name", in.Name)
	if err != nil {
		return nil, err
	}
	company, err := validName("company", in.Company)
	if err != nil {
		return nil, err
	}
	ids, err := identities(in.Emails, in.Phones)
	if err != nil {
		return nil, err
	}
	props := json.RawMessage("{}")
	if len(bytes.TrimSpace(in.Properties)) > 0 && !bytes.Equal(bytes.TrimSpace(in.Properties), []byte("null")) {
		m, err := validProperties(in.Properties)
		if err != nil {
			return nil, err
		}
		if props, err = json.Marshal(m); err != nil {
			return nil, err
		}
		props = cleanJSON(props, "{}")
	}
	var id int64
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if in.OwnerID != nil {
			if err := s.checkOwner(ctx, tx, *in.OwnerID); err != nil {
				return err
			}
		}
		c := &store.Contact{Name: name, Company: company, OwnerID: in.OwnerID, Properties: props}
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		for _, ident := range ids {
			if err := addIdentity(ctx, tx, c.ID, ident); err != nil {
				return err
			}
		}
		id = c.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Store.Contact(ctx, id)
}

func contactNotFound(id int64) error {
	return problem.NotFoundf("contact_not_found", "no contact %d", id)
}

// UpdateContact applies a patch to a contact the actor may see.
func (s *Service) UpdateContact(ctx context.Context, actor *store.User, id int64, p ContactPatch) (*store.Contact, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	var name, company *string
	if p.Name != nil {
		v, err := validName("name", *p.Name)
		if err != nil {
			return nil, err
		}
		name = &v
	}
	if p.Company != nil {
		v, err := validName("company", *p.Company)
		if err != nil {
			return nil, err
		}
		company = &v
	}
	add, err := identities(p.AddEmails, p.AddPhones)
	if err != nil {
		return nil, err
	}
	remove, err := identities(p.RemoveEmails, p.RemovePhones)
	if err != nil {
		return nil, err
	}
	var props map[string]json.RawMessage
	if len(bytes.TrimSpace(p.Properties)) > 0 && !bytes.Equal(bytes.TrimSpace(p.Properties), []byte("null")) {
		if props, err = validProperties(p.Properties); err != nil {
			return nil, err
		}
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if ok, err := tx.ContactVisibleTo(ctx, actor, id); err != nil {
			return err
		} else if !ok {
			return contactNotFound(id)
		}
		c, err := tx.Contact(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return contactNotFound(id)
		} else if err != nil {
			return err
		}
		if name != nil {
			c.Name = *name
		}
		if company != nil {
			c.Company = *company
		}
		switch {
		case p.ClearOwner:
			c.OwnerID = nil
		case p.OwnerID != nil:
			if err := s.checkOwner(ctx, tx, *p.OwnerID); err != nil {
				return err
			}
			c.OwnerID = p.OwnerID
		}
		if p.Blocked != nil {
			c.Blocked = *p.Blocked
		}
		if props != nil {
			merged := map[string]json.RawMessage{}
			if err := json.Unmarshal(c.Properties, &merged); err != nil || merged == nil {
				merged = map[string]json.RawMessage{}
			}
			for k, v := range props {
				if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
					delete(merged, k)
				} else {
					merged[k] = v
				}
			}
			raw, err := json.Marshal(merged)
			if err != nil {
				return err
			}
			if len(raw) > maxProperties {
				return problem.Field("invalid_properties", "properties", "must be a JSON object of at most 64 KiB")
			}
			c.Properties = cleanJSON(raw, "{}")
		}
		if err := tx.UpdateContact(ctx, c); err != nil {
			return err
		}
		for _, ident := range remove {
			if err := tx.RemoveContactIdentity(ctx, c.ID, ident); err != nil {
				return err
			}
		}
		for _, ident := range add {
			if err := addIdentity(ctx, tx, c.ID, ident); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Store.Contact(ctx, id)
}

// Contact returns a contact and its conversations (newest activity first, at most 100, spam
// and trash included) in the inboxes the actor may see.
func (s *Service) Contact(ctx context.Context, actor *store.User, id int64) (*store.Contact, []store.Conversation, error) {
	if actor == nil {
		return nil, nil, contactNotFound(id)
	}
	if ok, err := s.Store.ContactVisibleTo(ctx, actor, id); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, contactNotFound(id)
	}
	c, err := s.Store.Contact(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, contactNotFound(id)
	} else if err != nil {
		return nil, nil, err
	}
	convs, _, err := s.Store.Conversations(ctx, store.ConversationFilter{
		ForUser:     actor.ID,
		VisibleOnly: !actor.IsAdmin(),
		ContactID:   &c.ID,
		AnyState:    true, // the whole history, spam and trash included (they are flagged)
		Limit:       100,
	})
	if err != nil {
		return nil, nil, err
	}
	if convs == nil {
		convs = []store.Conversation{}
	}
	return c, convs, nil
}

// Contacts lists the contacts the actor may see, newest first, optionally matching q (name,
// company, email, phone).
// nextCursor is empty on the last page.
func (s *Service) Contacts(ctx context.Context, actor *store.User, q string, limit int, cursor string) ([]store.Contact, string, error) {
	if err := requireActor(actor); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	q = strings.TrimSpace(cleanText(q))
	if len(q) > maxQuery {
		return nil, "", problem.Field("invalid_query", "q", "must be at most "+strconv.Itoa(maxQuery)+" characters")
	}
	var after int64
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, "", problem.Field("invalid_cursor", "cursor", "is not a cursor this API returned")
		}
		after = n
	}
	f := store.ContactFilter{Q: q, AfterID: after, Limit: limit}
	if !actor.IsAdmin() {
		f.VisibleTo = actor.ID
	}
	list, next, err := s.Store.Contacts(ctx, f)
	if err != nil {
		return nil, "", err
	}
	if list == nil {
		list = []store.Contact{}
	}
	if next == 0 {
		return list, "", nil
	}
	return list, strconv.FormatInt(next, 10), nil
}

// ContactEmails returns the contact's email addresses.
func ContactEmails(c *store.Contact) []string { return identityValues(c, "email") }

// ContactPhones returns the contact's phone numbers.
func ContactPhones(c *store.Contact) []string { return identityValues(c, "phone") }

func identityValues(c *store.Contact, kind string) []string {
	out := []string{}
	for _, id := range c.Identities {
		if id.Kind == kind && !slices.Contains(out, id.Value) {
			out = append(out, id.Value)
		}
	}
	return out
}
