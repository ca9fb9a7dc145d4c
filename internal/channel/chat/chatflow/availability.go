package chatflow

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // business hours name IANA zones; the binary must not depend on the host's tz database

	"github.com/parley-inbox/parley/internal/zone"
)

// Days are the keys of BusinessHours.Days, Monday first.
var Days = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// maxIntervals bounds the intervals of one day: a split shift needs two or three.
const maxIntervals = 8

// BusinessHours is a weekly schedule in a time zone, with holidays (CHAT-5). The times are
// wall-clock times in TimeZone, so the schedule keeps its local hours across daylight saving
// changes.
type BusinessHours struct {
	TimeZone string                `json:"time_zone"`
	Days     map[string][]Interval `json:"days"`
	// Holidays are dates (YYYY-MM-DD) closed all day in TimeZone. A shift that starts on a
	// holiday does not run, and one that runs past midnight into a holiday stops at midnight.
	Holidays []string `json:"holidays"`
}

// Interval is an opening of one day, "HH:MM" wall-clock times. End may be "24:00"; an End at or
// before Start runs past midnight into the next day ("22:00"–"02:00").
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// parseClock reads "HH:MM" as minutes after midnight; "24:00" only when end is true.
func parseClock(s string, end bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && (m != 0 || !end) {
		return 0, false
	}
	return h*60 + m, true
}

// span is an interval in minutes after its day's midnight; end > 1440 runs into the next day.
type span struct{ start, end int }

func (iv Interval) span() (span, bool) {
	s, ok1 := parseClock(iv.Start, false)
	e, ok2 := parseClock(iv.End, true)
	if !ok1 || !ok2 || s == e {
		return span{}, false
	}
	if e < s {
		e += 24 * 60
	}
	return span{s, e}, true
}

func (b *BusinessHours) validate(p *problems, field string) {
	b.TimeZone = strings.TrimSpace(b.TimeZone)
	if b.TimeZone == "" || b.TimeZone == "Local" || len(b.TimeZone) > 64 {
		p.add(CodeInvalidTimeZone, field+".time_zone", "must be an IANA time zone like Europe/Stockholm")
	} else if _, err := zone.Location(b.TimeZone); err != nil {
		p.add(CodeInvalidTimeZone, field+".time_zone", "must be an IANA time zone like Europe/Stockholm")
	}
	days := make(map[string][]Interval, len(Days))
	for day, list := range b.Days {
		if !slices.Contains(Days, day) {
			p.add(CodeInvalidBusinessHours, field+".days", fmt.Sprintf("%q is not a day; use %s", day, strings.Join(Days, ", ")))
			continue
		}
		if len(list) > maxIntervals {
			p.add(CodeInvalidBusinessHours, field+".days."+day, fmt.Sprintf("must have at most %d intervals", maxIntervals))
			continue
		}
		out := slices.Clone(list)
		slices.SortStableFunc(out, func(a, b Interval) int {
			x, _ := parseClock(a.Start, false)
			y, _ := parseClock(b.Start, false)
			return x - y
		})
		days[day] = out
	}
	// tails[i] is how far into day i the previous day's last shift runs.
	var tails [7]int
	total := 0
	for i, day := range Days {
		prevEnd := -1
		for j, iv := range days[day] {
			f := fmt.Sprintf("%s.days.%s[%d]", field, day, j)
			if _, ok := parseClock(iv.Start, false); !ok {
				p.add(CodeInvalidBusinessHours, f+".start", "must be a time HH:MM from 00:00 to 23:59")
				continue
			}
			if _, ok := parseClock(iv.End, true); !ok {
				p.add(CodeInvalidBusinessHours, f+".end", "must be a time HH:MM from 00:01 to 24:00")
				continue
			}
			sp, ok := iv.span()
			if !ok {
				p.add(CodeInvalidBusinessHours, f, "must not start and end at the same time (00:00–24:00 is the whole day)")
				continue
			}
			if sp.start < prevEnd {
				p.add(CodeInvalidBusinessHours, f, "must not overlap the day's other intervals")
			}
			prevEnd = max(prevEnd, sp.end)
			total++
		}
		if prevEnd > 24*60 {
			tails[(i+1)%7] = prevEnd - 24*60
		}
	}
	for i, day := range Days {
		if list := days[day]; len(list) > 0 && tails[i] > 0 {
			if s, ok := parseClock(list[0].Start, false); ok && s < tails[i] {
				p.add(CodeInvalidBusinessHours, fmt.Sprintf("%s.days.%s[0]", field, day),
					"must not overlap the previous day's interval that runs past midnight")
			}
		}
		if days[day] == nil {
			days[day] = []Interval{}
		}
	}
	b.Days = days
	if total == 0 {
		p.add(CodeInvalidBusinessHours, field+".days", "must have at least one interval in the week")
	}
	if len(b.Holidays) > maxHolidays {
		p.add(CodeInvalidBusinessHours, field+".holidays", fmt.Sprintf("must list at most %d dates", maxHolidays))
		return
	}
	holidays := make([]string, 0, len(b.Holidays))
	for i, h := range b.Holidays {
		h = strings.TrimSpace(h)
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			p.add(CodeInvalidBusinessHours, fmt.Sprintf("%s.holidays[%d]", field, i), "must be a date YYYY-MM-DD")
			continue
		}
		holidays = append(holidays, h)
	}
	slices.Sort(holidays)
	b.Holidays = slices.Compact(holidays)
}

// States and reasons of a Status.
const (
	StateOpen = "open"
	StateAway = "away"

	ReasonAlways               = "always"
	ReasonTeamAvailable        = "team_available"
	ReasonTeamAway             = "team_away"
	ReasonBusinessHours        = "business_hours"
	ReasonOutsideBusinessHours = "outside_business_hours"
	ReasonHoliday              = "holiday"
)

// Status is whether a flow's team is there at a moment.
type Status struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
	// BackAt is the next opening when away under business hours, holidays skipped; nil otherwise.
	BackAt *time.Time `json:"back_at,omitempty"`
}

// Away reports whether the status is away.
func (s Status) Away() bool { return s.State == StateAway }

// Available says whether the flow is open at the moment at (CHAT-5). anyoneAvailable is whether
// any user the flow hands off to is available, and only counts in team_status mode: business
// hours open the chat whoever is online, as inbox-level hours win over individual status
// (inbox-behaviour §1.3), and a chat nobody can take then gets the away behaviour from routing.
// The flow must be validated.
func Available(f *Flow, at time.Time, anyoneAvailable bool) Status {
	switch f.Availability.Mode {
	case ModeTeamStatus:
		if anyoneAvailable {
			return Status{State: StateOpen, Reason: ReasonTeamAvailable}
		}
		return Status{State: StateAway, Reason: ReasonTeamAway}
	case ModeBusinessHours:
		if f.Availability.BusinessHours == nil {
			break
		}
		s := compile(f.Availability.BusinessHours)
		if s.open(at) {
			return Status{State: StateOpen, Reason: ReasonBusinessHours}
		}
		st := Status{State: StateAway, Reason: ReasonOutsideBusinessHours}
		if s.holiday(s.date(at)) {
			st.Reason = ReasonHoliday
		}
		if next, ok := s.next(at); ok {
			st.BackAt = &next
		}
		return st
	}
	return Status{State: StateOpen, Reason: ReasonAlways}
}

// schedule is business hours ready to evaluate. Dates are midnights in UTC standing for civil
// dates in loc: arithmetic on them never meets a daylight saving change.
type schedule struct {
	loc      *time.Location
	days     [7][]span // Monday first
	holidays map[time.Time]bool
}

func compile(b *BusinessHours) *schedule {
	loc, err := zone.Location(b.TimeZone)
	if err != nil {
		// Validate refused unknown zones when the flow was saved; a zone that vanished from the
		// tz database since is read as UTC rather than closing the chat for good.
		loc = time.UTC
	}
	s := &schedule{loc: loc, holidays: make(map[time.Time]bool, len(b.Holidays))}
	for i, day := range Days {
		for _, iv := range b.Days[day] {
			if sp, ok := iv.span(); ok {
				s.days[i] = append(s.days[i], sp)
			}
		}
	}
	for _, h := range b.Holidays {
		if d, err := time.Parse(time.DateOnly, h); err == nil {
			s.holidays[d] = true
		}
	}
	return s
}

func (s *schedule) date(at time.Time) time.Time {
	t := at.In(s.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *schedule) holiday(d time.Time) bool { return s.holidays[d] }

// openings returns the instants the shifts starting on date d run, holidays applied.
func (s *schedule) openings(d time.Time) [][2]time.Time {
	if s.holiday(d) {
		return nil
	}
	var out [][2]time.Time
	for _, sp := range s.days[(int(d.Weekday())+6)%7] {
		end := sp.end
		if end > 24*60 && s.holiday(d.AddDate(0, 0, 1)) {
			end = 24 * 60
		}
		from, to := resolve(s.loc, d, sp.start), resolve(s.loc, d, end)
		if to.After(from) {
			out = append(out, [2]time.Time{from, to})
		}
	}
	return out
}

func (s *schedule) open(at time.Time) bool {
	today := s.date(at)
	// Yesterday's shifts may run past midnight into today.
	for _, d := range []time.Time{today.AddDate(0, 0, -1), today} {
		for _, o := range s.openings(d) {
			if !at.Before(o[0]) && at.Before(o[1]) {
				return true
			}
		}
	}
	return false
}

// next returns the first opening after at. Openings are only shift starts: a holiday never ends
// in the middle of a shift, because a shift starting on one does not run.
func (s *schedule) next(at time.Time) (time.Time, bool) {
	today := s.date(at)
	// Each holiday from today on closes at most one of the days of a weekday with shifts, so
	// that many weeks and two more (today's shifts may all be over) hold an opening if any exists.
	ahead := 0
	for d := range s.holidays {
		if !d.Before(today) {
			ahead++
		}
	}
	for i := -1; i <= 7*(ahead+2); i++ {
		var best time.Time
		for _, o := range s.openings(today.AddDate(0, 0, i)) {
			if o[0].After(at) && (best.IsZero() || o[0].Before(best)) {
				best = o[0]
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

// resolve is the first instant at or after which the wall clock in loc reads date d plus minute
// minutes (minute may pass 24:00 into the next day). Go's time.Date may pick the later of two
// instants when the clock is set back and an instant past the gap when it jumps forward; a
// schedule opening at 02:30 must open at the first 02:30, or when the clock jumps past it.
func resolve(loc *time.Location, d time.Time, minute int) time.Time {
	wall := d.Add(time.Duration(minute) * time.Minute).Unix() // the wall clock read as UTC
	offset := func(t int64) int64 {
		_, o := time.Unix(t, 0).In(loc).Zone()
		return int64(o)
	}
	// Zones change their offset at most once in two days, so the offsets a day either side
	// are the only ones a wall clock time can have.
	t1, t2 := wall-offset(wall-86400), wall-offset(wall+86400)
	ok1, ok2 := t1+offset(t1) == wall, t2+offset(t2) == wall
	switch {
	case ok1 && ok2:
		return time.Unix(min(t1, t2), 0).In(loc)
	case ok1:
		return time.Unix(t1, 0).In(loc)
	case ok2:
		return time.Unix(t2, 0).In(loc)
	}
	// The wall clock skips this time: find the instant it jumps, the first whose clock reads later.
	lo, hi := min(t1, t2), max(t1, t2)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if mid+offset(mid) >= wall {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return time.Unix(lo, 0).In(loc)
}
