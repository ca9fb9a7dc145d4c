package inbox

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Views (SPEC CONV-8): the counts of the inbox's standard views, the teams and channels an agent
// has views for, and each agent's own saved views. Everything here is limited to what the actor
// may see, like the list itself.

// ViewCounts counts the open conversations of each standard view for the actor.
func (s *Service) ViewCounts(ctx context.Context, actor *store.User) (*store.ViewCounts, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	return s.Store.ViewCounts(ctx, actor, store.Now())
}

// MyTeams returns the teams the actor is a member of: each has a view of its conversations.
func (s *Service) MyTeams(ctx context.Context, actor *store.User) ([]*store.Team, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	return s.Store.TeamsOf(ctx, actor.ID)
}

// VisibleChannels returns the channels of the inboxes the actor may see: each has a view.
func (s *Service) VisibleChannels(ctx context.Context, actor *store.User) ([]*store.Channel, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	return s.Store.VisibleChannels(ctx, actor)
}

// ListPeople returns the contacts and the assignees of a page of conversations the actor was
// given by Conversations, with one query each, for the list's rows.
func (s *Service) ListPeople(ctx context.Context, actor *store.User, list []store.Conversation) (map[int64]store.ContactCard, map[int64]*store.User, error) {
	if err := requireActor(actor); err != nil {
		return nil, nil, err
	}
	var contactIDs, userIDs []int64
	for _, c := range list {
		if c.ContactID != nil {
			contactIDs = append(contactIDs, *c.ContactID)
		}
		if c.AssigneeID != nil {
			userIDs = append(userIDs, *c.AssigneeID)
		}
	}
	contacts, err := s.Store.ContactCards(ctx, contactIDs)
	if err != nil {
		return nil, nil, err
	}
	users, err := s.Store.UsersByIDs(ctx, userIDs)
	if err != nil {
		return nil, nil, err
	}
	return contacts, users, nil
}

// Saved view limits keep the left pane usable.
const (
	maxSavedViews     = 50
	maxSavedViewName  = 80
	maxSavedViewQuery = 2000
)

func savedViewNotFound(id int64) error {
	return problem.NotFoundf("saved_view_not_found", "no saved view %d", id)
}

func cleanViewName(name string) (string, error) {
	name = strings.Join(strings.Fields(cleanText(name)), " ")
	if name == "" {
		return "", problem.Field("invalid_view_name", "name", "must not be empty")
	}
	if utf8.RuneCountInString(name) > maxSavedViewName {
		return "", problem.Field("invalid_view_name", "name", "must be at most 80 characters")
	}
	return name, nil
}

// SavedViews returns the actor's own saved views in their order.
func (s *Service) SavedViews(ctx context.Context, actor *store.User) ([]*store.SavedView, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	return s.Store.SavedViews(ctx, actor.ID)
}

// SaveView saves a list query (the list's filters, as the caller encodes them) under a name, as
// the actor's own view. The query is not interpreted here: opening the view lists it through
// Conversations, with the actor's permissions at that time.
func (s *Service) SaveView(ctx context.Context, actor *store.User, name, query string) (*store.SavedView, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	name, err := cleanViewName(name)
	if err != nil {
		return nil, err
	}
	if len(query) > maxSavedViewQuery {
		return nil, problem.Field("invalid_view_query", "query", "must be at most 2000 characters")
	}
	v := &store.SavedView{UserID: actor.ID, Name: name, Query: cleanText(query)}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		have, err := tx.SavedViews(ctx, actor.ID)
		if err != nil {
			return err
		}
		if len(have) >= maxSavedViews {
			return problem.Conflictf("too_many_views", "a user may save at most 50 views")
		}
		return tx.InsertSavedView(ctx, v)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// RenameView renames one of the actor's saved views. Another user's view does not exist for them.
func (s *Service) RenameView(ctx context.Context, actor *store.User, id int64, name string) (*store.SavedView, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	name, err := cleanViewName(name)
	if err != nil {
		return nil, err
	}
	v, err := s.Store.SavedView(ctx, actor.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, savedViewNotFound(id)
	} else if err != nil {
		return nil, err
	}
	v.Name = name
	err = s.Store.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateSavedView(ctx, v) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, savedViewNotFound(id)
	}
	return v, err
}

// DeleteView deletes one of the actor's saved views.
func (s *Service) DeleteView(ctx context.Context, actor *store.User, id int64) error {
	if err := requireActor(actor); err != nil {
		return err
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSavedView(ctx, actor.ID, id) })
	if errors.Is(err, store.ErrNotFound) {
		return savedViewNotFound(id)
	}
	return err
}
