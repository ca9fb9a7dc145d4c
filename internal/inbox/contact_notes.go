package inbox

import (
	"context"
	"errors"
	"strings"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Notes on a contact (CONTACT-3) follow the contact's visibility: whoever may see the contact
// (see Contact) reads and adds its notes; anyone else is told the contact does not exist. A
// note is deleted by its author or by an admin.

// maxContactNote bounds one note, like a comment.
const maxContactNote = 64 << 10

// contactNotesShown is how many of a contact's newest notes the sidebar lists.
const contactNotesShown = 100

// visibleContact answers contact_not_found unless the actor may see the contact.
func visibleContact(ctx context.Context, check func(context.Context, *store.User, int64) (bool, error), actor *store.User, id int64) error {
	if err := requireActor(actor); err != nil {
		return err
	}
	ok, err := check(ctx, actor, id)
	if err != nil {
		return err
	}
	if !ok {
		return contactNotFound(id)
	}
	return nil
}

// ContactNotes returns the contact's newest notes first (at most 100) with their authors.
func (s *Service) ContactNotes(ctx context.Context, actor *store.User, contactID int64) ([]store.ContactNote, error) {
	if err := visibleContact(ctx, s.Store.ContactVisibleTo, actor, contactID); err != nil {
		return nil, err
	}
	return s.Store.ContactNotes(ctx, contactID, contactNotesShown)
}

// AddContactNote adds a note to a contact the actor may see.
func (s *Service) AddContactNote(ctx context.Context, actor *store.User, contactID int64, body string) (*store.ContactNote, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	body = strings.TrimSpace(cleanText(body))
	if body == "" {
		return nil, problem.Field("empty_note", "body", "must not be empty")
	}
	if len(body) > maxContactNote {
		return nil, problem.Field("note_too_long", "body", "is longer than 65536 bytes")
	}
	var n *store.ContactNote
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := visibleContact(ctx, tx.ContactVisibleTo, actor, contactID); err != nil {
			return err
		}
		in := &store.ContactNote{ContactID: contactID, AuthorID: actor.ID, Body: body}
		if err := tx.InsertContactNote(ctx, in); err != nil {
			return err
		}
		var err error
		n, err = tx.ContactNote(ctx, in.ID) // with the author's name, as lists show it
		return err
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func noteNotFound(id int64) error {
	return problem.NotFoundf("note_not_found", "no note %d on this contact", id)
}

// DeleteContactNote deletes a note of a contact the actor may see; only its author or an
// admin may.
func (s *Service) DeleteContactNote(ctx context.Context, actor *store.User, contactID, noteID int64) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := visibleContact(ctx, tx.ContactVisibleTo, actor, contactID); err != nil {
			return err
		}
		n, err := tx.ContactNote(ctx, noteID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && n.ContactID != contactID) {
			return noteNotFound(noteID)
		} else if err != nil {
			return err
		}
		if n.AuthorID != actor.ID && !actor.IsAdmin() {
			return problem.Forbiddenf("note_not_yours", "only the note's author or an admin may delete it")
		}
		return tx.DeleteContactNote(ctx, noteID)
	})
}
