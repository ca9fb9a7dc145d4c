package ui

import (
	"net/http"
	"slices"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func (s *Server) settingsRoutingRoutes() []route {
	return []route{
		{pattern: "GET /settings/routing", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "routing", s.routingSettings)
		}},
		{pattern: "POST /settings/routing/{id}", admin: true, handle: s.saveRoutingRule},
	}
}

// channelRule is one channel with its automatic-assignment rule.
type channelRule struct {
	Channel *store.Channel
	Inbox   string
	Rule    *store.RoutingRule
	// Members are the people who may be in the rotation: those with access to the channel's
	// inbox (and anyone the rule already names, so a stale choice can be seen and removed).
	Members []*store.User
}

type routingSettings struct {
	*settingsPage
	Channels   []channelRule
	Users      []*store.User
	Teams      []*workspace.Team
	Strategies []string
	Targets    []string
}

func (s *Server) routingSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	ctx, me := r.Context(), user(r)
	d := &routingSettings{settingsPage: sp, Strategies: routing.Strategies, Targets: routing.AssignTargets}
	chans, err := s.Inbox.Channels(ctx, me, nil)
	if err != nil {
		return "", nil, err
	}
	inboxes, err := s.allInboxes(ctx, me)
	if err != nil {
		return "", nil, err
	}
	byID := map[int64]*store.Inbox{}
	for _, in := range inboxes {
		byID[in.ID] = in
	}
	if d.Users, err = s.allUsers(ctx, false); err != nil {
		return "", nil, err
	}
	if d.Teams, err = s.allTeams(ctx); err != nil {
		return "", nil, err
	}
	// One rule a channel: installations have a handful of channels, not hundreds.
	for _, ch := range chans {
		rule, err := s.Inbox.RoutingRule(ctx, me, ch.ID)
		if err != nil {
			return "", nil, err
		}
		cr := channelRule{Channel: ch, Rule: rule}
		if in := byID[ch.InboxID]; in != nil {
			cr.Inbox = in.Name
			cr.Members = d.inboxMembers(in, rule.UserIDs)
		}
		d.Channels = append(d.Channels, cr)
	}
	return "settings-routing", d, nil
}

func (s *Server) saveRoutingRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	form := "rule-" + settingsID(id)
	in := inbox.RuleInput{
		Enabled:       r.PostForm.Get("enabled") == "on",
		AssignTo:      r.PostForm.Get("assign_to"),
		OnlyAvailable: r.PostForm.Get("only_available") == "on",
		Strategy:      r.PostForm.Get("strategy"),
	}
	if in.UserIDs, err = formIDs(r, "user_ids"); err == nil {
		in.TeamIDs, err = formIDs(r, "team_ids")
	}
	if err == nil {
		_, err = s.Inbox.SetRoutingRule(r.Context(), user(r), id, in)
	}
	if err != nil {
		return s.settingsInvalid(w, r, err, "routing", form, s.routingSettings)
	}
	return s.settingsDone(w, r, "routing", "/settings/routing", "settings.flash.rule_saved", s.routingSettings)
}

// inboxMembers lists the active users with access to in, plus those in keep.
func (d *routingSettings) inboxMembers(in *store.Inbox, keep []int64) []*store.User {
	if in.Access == workspace.AccessEveryone {
		return d.Users
	}
	ok := map[int64]bool{}
	for _, id := range in.UserIDs {
		ok[id] = true
	}
	for _, id := range keep {
		ok[id] = true
	}
	for _, t := range d.Teams {
		if slices.Contains(in.TeamIDs, t.ID) {
			for _, m := range t.Members {
				ok[m.UserID] = true
			}
		}
	}
	var out []*store.User
	for _, u := range d.Users {
		if ok[u.ID] {
			out = append(out, u)
		}
	}
	return out
}
