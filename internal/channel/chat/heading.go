package chat

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/store"
)

// maxHeadingPeople is how many faces the widget's heading shows.
const maxHeadingPeople = 3

// Heading is who the widget's heading presents (CHAT-2), as the session answer carries it.
// Title is empty when the widget's own title ("Chat with us" in the visitor's language) fits.
type Heading struct {
	Title  string          `json:"title"`
	People []HeadingPerson `json:"people"`
}

// HeadingPerson is one face in the heading: a first name, as visitors see agents, and an
// absolute avatar URL or none.
type HeadingPerson struct {
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url,omitempty"`
}

// heading works out the flow's heading for a visitor; nil when the flow sets none.
func (s *Service) heading(ctx context.Context, f *chatflow.Flow, conv *store.Conversation) (*Heading, error) {
	if f == nil || f.Heading == nil {
		return nil, nil
	}
	h := f.Heading
	switch h.Mode {
	case chatflow.HeadingCustom:
		return &Heading{Title: h.Name, People: []HeadingPerson{{Name: h.Name, AvatarURL: s.absolute(h.AvatarURL)}}}, nil
	case chatflow.HeadingContactOwner:
		if owner, err := s.contactOwner(ctx, conv); err != nil {
			return nil, err
		} else if owner != nil {
			return &Heading{People: []HeadingPerson{s.person(owner)}}, nil
		}
	}
	ids := slices.Clone(h.UserIDs)
	if len(h.TeamIDs) > 0 {
		members, err := s.Store.TeamMembers(ctx, h.TeamIDs...)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			ids = append(ids, m.UserID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	users, err := s.Store.UsersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	var people []*store.User
	for _, id := range ids {
		if u := users[id]; u != nil && u.DeactivatedAt == nil {
			people = append(people, u)
		}
	}
	// More than fit: a different three each time, so nobody is the face of the team for good.
	rand.Shuffle(len(people), func(i, j int) { people[i], people[j] = people[j], people[i] })
	out := &Heading{People: []HeadingPerson{}}
	for _, u := range people[:min(len(people), maxHeadingPeople)] {
		out.People = append(out.People, s.person(u))
	}
	return out, nil
}

// contactOwner is the owner of the contact of the visitor's conversation, if any and active.
func (s *Service) contactOwner(ctx context.Context, conv *store.Conversation) (*store.User, error) {
	if conv == nil || conv.ContactID == nil {
		return nil, nil
	}
	c, err := s.Store.Contact(ctx, *conv.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil || c.OwnerID == nil {
		return nil, err
	}
	u, err := s.Store.User(ctx, *c.OwnerID)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.DeactivatedAt != nil {
		return nil, nil
	}
	return u, err
}

func (s *Service) person(u *store.User) HeadingPerson {
	return HeadingPerson{Name: firstName(u.Name), AvatarURL: s.absolute(u.AvatarURL)}
}

// absolute makes an avatar URL usable on the customer's site: a path is Parley's, resolved
// against BaseURL; anything but http(s) is dropped.
func (s *Service) absolute(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if !u.IsAbs() {
		base, err := url.Parse(strings.TrimRight(s.BaseURL, "/") + "/")
		if err != nil || s.BaseURL == "" {
			return ""
		}
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}
