package api

import (
	"encoding/json"
	"net/http"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

// contactRoutes are the contact endpoints. Contacts are workspace-wide; a contact's
// conversations are limited to the inboxes the caller may see.
func contactRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/contacts", Access: Signed, Handle: listContacts},
		{Method: "POST", Pattern: "/api/v1/contacts", Access: Signed, Handle: createContact},
		{Method: "GET", Pattern: "/api/v1/contacts/{id}", Access: Signed, Scope: ScopeContact, Handle: getContact},
		{Method: "PATCH", Pattern: "/api/v1/contacts/{id}", Access: Signed, Scope: ScopeContact, Handle: patchContact},
	}
}

type identityJSON struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

type contactJSON struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Company    string          `json:"company"`
	Emails     []string        `json:"emails"`
	Phones     []string        `json:"phones"`
	Identities []identityJSON  `json:"identities"`
	OwnerID    *int64          `json:"owner_id"`
	Blocked    bool            `json:"blocked"`
	Properties json.RawMessage `json:"properties"`
	CreatedAt  string          `json:"created_at"`
	UpdatedAt  string          `json:"updated_at"`
	// Conversations is set on a single contact: those in inboxes the caller may see.
	Conversations *[]conversationJSON `json:"conversations,omitempty"`
}

func toContactJSON(c *store.Contact) contactJSON {
	ids := make([]identityJSON, len(c.Identities))
	for i, id := range c.Identities {
		ids[i] = identityJSON{Kind: id.Kind, Value: id.Value}
	}
	return contactJSON{
		ID: c.ID, Name: c.Name, Company: c.Company,
		Emails: inbox.ContactEmails(c), Phones: inbox.ContactPhones(c), Identities: ids,
		OwnerID: c.OwnerID, Blocked: c.Blocked, Properties: rawJSONOr(c.Properties, "{}"),
		CreatedAt: timeJSON(c.CreatedAt), UpdatedAt: timeJSON(c.UpdatedAt),
	}
}

func listContacts(s *Server, w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	cursor, err := decodeCursor(r)
	if err != nil {
		return err
	}
	list, next, err := s.Inbox.Contacts(r.Context(), caller(r), r.URL.Query().Get("q"), n, cursor)
	if err != nil {
		return err
	}
	out := make([]contactJSON, len(list))
	for i := range list {
		out[i] = toContactJSON(&list[i])
	}
	writeJSON(w, http.StatusOK, newList(out, encodeCursor(next)))
	return nil
}

func createContact(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name       string          `json:"name"`
		Company    string          `json:"company"`
		Emails     []string        `json:"emails"`
		Phones     []string        `json:"phones"`
		OwnerID    *int64          `json:"owner_id"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := s.Inbox.CreateContact(r.Context(), caller(r), inbox.ContactInput{
		Name: body.Name, Company: body.Company, Emails: body.Emails, Phones: body.Phones,
		OwnerID: body.OwnerID, Properties: body.Properties,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toContactJSON(c))
	return nil
}

func getContact(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, convs, err := s.Inbox.Contact(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	out := toContactJSON(c)
	list := make([]conversationJSON, len(convs))
	for i := range convs {
		list[i] = toConversationJSON(&convs[i])
	}
	out.Conversations = &list
	writeJSON(w, http.StatusOK, out)
	return nil
}

func patchContact(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Name         *string         `json:"name"`
		Company      *string         `json:"company"`
		OwnerID      json.RawMessage `json:"owner_id"`
		Blocked      *bool           `json:"blocked"`
		Properties   json.RawMessage `json:"properties"`
		AddEmails    []string        `json:"add_emails"`
		RemoveEmails []string        `json:"remove_emails"`
		AddPhones    []string        `json:"add_phones"`
		RemovePhones []string        `json:"remove_phones"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	p := inbox.ContactPatch{
		Name: body.Name, Company: body.Company, Blocked: body.Blocked, Properties: body.Properties,
		AddEmails: body.AddEmails, RemoveEmails: body.RemoveEmails, AddPhones: body.AddPhones, RemovePhones: body.RemovePhones,
	}
	if body.OwnerID != nil {
		if rawIsNull(body.OwnerID) {
			p.ClearOwner = true
		} else {
			p.OwnerID = new(int64)
			if err := decodeRawField(body.OwnerID, "owner_id", "a user id or null", p.OwnerID); err != nil {
				return err
			}
		}
	}
	c, err := s.Inbox.UpdateContact(r.Context(), caller(r), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toContactJSON(c))
	return nil
}
