package api

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
)

// routingRoutes: the connected channels, their automatic-assignment rules (SPEC ROUTE-1…7), and
// each user's availability, working hours and capacity (ACCESS-6, ACCESS-7).
func routingRoutes() []Route {
	const small = 64 << 10
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/channels", Access: Signed, Handle: listChannels},
		{Method: http.MethodGet, Pattern: "/api/v1/channels/{id}/routing", Access: Signed, Scope: ScopeChannel, Handle: getRouting},
		{Method: http.MethodPut, Pattern: "/api/v1/channels/{id}/routing", Access: Admin, MaxBody: small, Handle: putRouting},

		{Method: http.MethodGet, Pattern: "/api/v1/users/{id}/availability", Access: Signed, Handle: getAvailability},
		{Method: http.MethodPut, Pattern: "/api/v1/users/{id}/availability", Access: Signed, MaxBody: small, Handle: putAvailability},
		{Method: http.MethodGet, Pattern: "/api/v1/users/{id}/working-hours", Access: Signed, Handle: getWorkingHours},
		{Method: http.MethodPut, Pattern: "/api/v1/users/{id}/working-hours", Access: Signed, MaxBody: small, Handle: putWorkingHours},
		{Method: http.MethodGet, Pattern: "/api/v1/users/{id}/capacity", Access: Signed, Handle: getCapacity},
		{Method: http.MethodPut, Pattern: "/api/v1/users/{id}/capacity", Access: Admin, MaxBody: small, Handle: putCapacity},
	}
}

// Channels.

type channelJSON struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	InboxID   int64  `json:"inbox_id"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

func toChannelJSON(c *store.Channel) channelJSON {
	return channelJSON{ID: c.ID, Kind: c.Kind, Name: c.Name, InboxID: c.InboxID, Status: c.Status,
		CreatedAt: timeJSON(c.CreatedAt)}
}

func listChannels(s *Server, w http.ResponseWriter, r *http.Request) error {
	var inboxID *int64
	if id, err := optionalIDParam(r, "inbox_id"); err != nil {
		return err
	} else if id != 0 {
		inboxID = &id
	}
	channels, err := s.Inbox.Channels(r.Context(), caller(r), inboxID)
	if err != nil {
		return err
	}
	out := make([]channelJSON, len(channels))
	for i, c := range channels {
		out[i] = toChannelJSON(c)
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

// routingRuleJSON is exactly what PUT takes, so a rule read can be written back as it is.
type routingRuleJSON struct {
	Enabled       bool    `json:"enabled"`
	AssignTo      string  `json:"assign_to"`
	UserIDs       []int64 `json:"user_ids"`
	TeamIDs       []int64 `json:"team_ids"`
	OnlyAvailable bool    `json:"only_available"`
	Strategy      string  `json:"strategy"`
}

func toRoutingRuleJSON(r *store.RoutingRule) routingRuleJSON {
	out := routingRuleJSON{Enabled: r.Enabled, AssignTo: r.AssignTo, UserIDs: r.UserIDs, TeamIDs: r.TeamIDs,
		OnlyAvailable: r.OnlyAvailable, Strategy: r.Strategy}
	if out.UserIDs == nil {
		out.UserIDs = []int64{}
	}
	if out.TeamIDs == nil {
		out.TeamIDs = []int64{}
	}
	return out
}

func getRouting(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rule, err := s.Inbox.RoutingRule(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRoutingRuleJSON(rule))
	return nil
}

func putRouting(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// Absent fields take the defaults of a new rule, so PUT always describes the whole rule.
	var body struct {
		Enabled       *bool   `json:"enabled"`
		AssignTo      *string `json:"assign_to"`
		UserIDs       []int64 `json:"user_ids"`
		TeamIDs       []int64 `json:"team_ids"`
		OnlyAvailable *bool   `json:"only_available"`
		Strategy      *string `json:"strategy"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	in := inbox.RuleInput{AssignTo: routing.AssignUsersAndTeams, UserIDs: body.UserIDs, TeamIDs: body.TeamIDs,
		OnlyAvailable: true, Strategy: routing.RoundRobin}
	if body.Enabled != nil {
		in.Enabled = *body.Enabled
	}
	if body.AssignTo != nil {
		in.AssignTo = *body.AssignTo
	}
	if body.OnlyAvailable != nil {
		in.OnlyAvailable = *body.OnlyAvailable
	}
	if body.Strategy != nil {
		in.Strategy = *body.Strategy
	}
	rule, err := s.Inbox.SetRoutingRule(r.Context(), caller(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRoutingRuleJSON(rule))
	return nil
}

// Availability.

type availabilityJSON struct {
	UserID          int64   `json:"user_id"`
	Status          string  `json:"status"`
	SetBy           *int64  `json:"set_by"`
	SetAt           *string `json:"set_at"`
	EffectiveStatus string  `json:"effective_status"`
	AwayReason      *string `json:"away_reason"`
}

func toAvailabilityJSON(a *inbox.Availability) availabilityJSON {
	out := availabilityJSON{UserID: a.UserID, Status: a.Status, SetBy: a.SetBy, SetAt: timePtrJSON(a.SetAt),
		EffectiveStatus: a.EffectiveStatus}
	if a.AwayReason != "" {
		out.AwayReason = &a.AwayReason
	}
	return out
}

func getAvailability(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.Inbox.Availability(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAvailabilityJSON(a))
	return nil
}

func putAvailability(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Status string `json:"status"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	a, err := s.Inbox.SetAvailability(r.Context(), caller(r), id, body.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAvailabilityJSON(a))
	return nil
}

// Working hours: the JSON of routing.WorkingHours, every day present.

func getWorkingHours(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	wh, err := s.Inbox.WorkingHours(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func putWorkingHours(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Enabled  *bool                         `json:"enabled"`
		TimeZone string                        `json:"time_zone"`
		Days     map[string][]routing.Interval `json:"days"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	in := routing.WorkingHours{Enabled: body.Enabled == nil || *body.Enabled, TimeZone: body.TimeZone, Days: body.Days}
	wh, err := s.Inbox.SetWorkingHours(r.Context(), caller(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

// Capacity.

type capacityCountsJSON struct {
	Total     int64 `json:"total"`
	Messaging int64 `json:"messaging"`
	Email     int64 `json:"email"`
	Calls     int64 `json:"calls"`
}

type capacityJSON struct {
	UserID    int64              `json:"user_id"`
	Total     *int64             `json:"total"`
	Messaging *int64             `json:"messaging"`
	Email     *int64             `json:"email"`
	Calls     *int64             `json:"calls"`
	Open      capacityCountsJSON `json:"open"`
}

func toCapacityJSON(c *inbox.Capacity) capacityJSON {
	return capacityJSON{UserID: c.UserID, Total: c.Limits.Total, Messaging: c.Limits.Messaging, Email: c.Limits.Email,
		Calls: c.Limits.Calls, Open: capacityCountsJSON{Total: c.OpenTotal, Messaging: c.OpenByCategory["messaging"],
			Email: c.OpenByCategory["email"], Calls: c.OpenByCategory["calls"]}}
}

func getCapacity(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.Inbox.Capacity(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCapacityJSON(c))
	return nil
}

func putCapacity(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// Every limit is replaced: an absent one is null, no limit.
	var body struct {
		Total     *int64 `json:"total"`
		Messaging *int64 `json:"messaging"`
		Email     *int64 `json:"email"`
		Calls     *int64 `json:"calls"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := s.Inbox.SetCapacity(r.Context(), caller(r), id, routing.Limits{Total: body.Total,
		Messaging: body.Messaging, Email: body.Email, Calls: body.Calls})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCapacityJSON(c))
	return nil
}
