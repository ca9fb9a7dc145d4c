package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // working hours name IANA zones; the binary must not depend on the host's tz database

	"github.com/parley-inbox/parley/internal/zone"

	"github.com/parley-inbox/parley/internal/problem"
)

// Days are the keys of WorkingHours.Days, Monday first.
var Days = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// maxIntervals bounds the intervals of one day: a split shift needs two or three.
const maxIntervals = 8

// Interval is a span of one day in the working hours' zone, "HH:MM" wall-clock times; End may
// be "24:00". A shift past midnight is two intervals, one on each day.
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// WorkingHours is a user's weekly schedule (ACCESS-6). Outside it the user counts as away. The
// times are wall-clock times in TimeZone, so a schedule means the same local hours on both sides
// of a daylight saving change.
type WorkingHours struct {
	Enabled  bool                  `json:"enabled"`
	TimeZone string                `json:"time_zone"`
	Days     map[string][]Interval `json:"days"`
}

func invalidHours(field, message string) error {
	return problem.Field("invalid_working_hours", field, message)
}

// parseClock reads "HH:MM" as minutes after midnight; "24:00" only when end is true.
func parseClock(s string, end bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	digit := func(b byte) (int, bool) { return int(b - '0'), b >= '0' && b <= '9' }
	h1, ok1 := digit(s[0])
	h2, ok2 := digit(s[1])
	m1, ok3 := digit(s[3])
	m2, ok4 := digit(s[4])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, false
	}
	h, m := h1*10+h2, m1*10+m2
	if m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) {
		return 0, false
	}
	return h*60 + m, true
}

// Normalize checks the schedule and puts it in canonical form: every day present, intervals in
// order. A disabled schedule is still checked, so turning it back on cannot fail.
func (w *WorkingHours) Normalize() error {
	if w.TimeZone == "" || w.TimeZone == "Local" || len(w.TimeZone) > 64 {
		return problem.Field("invalid_time_zone", "time_zone", "must be an IANA time zone like Europe/Stockholm")
	}
	if _, err := zone.Location(w.TimeZone); err != nil {
		return problem.Field("invalid_time_zone", "time_zone", "must be an IANA time zone like Europe/Stockholm")
	}
	days := make(map[string][]Interval, len(Days))
	for day, list := range w.Days {
		if !slices.Contains(Days, day) {
			return invalidHours("days", fmt.Sprintf("%q is not a day; use mon, tue, wed, thu, fri, sat, sun", day))
		}
		if len(list) > maxIntervals {
			return invalidHours("days."+day, fmt.Sprintf("at most %d intervals a day", maxIntervals))
		}
		out := make([]Interval, len(list))
		copy(out, list)
		slices.SortFunc(out, func(a, b Interval) int { return compareClock(a.Start, b.Start) })
		prevEnd := -1
		for i, iv := range out {
			field := fmt.Sprintf("days.%s[%d]", day, i)
			start, ok := parseClock(iv.Start, false)
			if !ok {
				return invalidHours(field+".start", "must be a time HH:MM from 00:00 to 23:59")
			}
			end, ok := parseClock(iv.End, true)
			if !ok {
				return invalidHours(field+".end", "must be a time HH:MM from 00:01 to 24:00")
			}
			if end <= start {
				return invalidHours(field, "must end after it starts (split a shift past midnight over two days)")
			}
			if start < prevEnd {
				return invalidHours("days."+day, "intervals must not overlap")
			}
			prevEnd = end
		}
		days[day] = out
	}
	for _, day := range Days {
		if days[day] == nil {
			days[day] = []Interval{}
		}
	}
	w.Days = days
	return nil
}

func compareClock(a, b string) int {
	x, _ := parseClock(a, true)
	y, _ := parseClock(b, true)
	return x - y
}

// ParseWorkingHours reads a schedule from JSON — unknown fields refused — and normalizes it.
func ParseWorkingHours(data []byte) (*WorkingHours, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w WorkingHours
	if err := dec.Decode(&w); err != nil {
		return nil, invalidHours("working_hours", "must be an object with enabled, time_zone and days")
	}
	if dec.More() {
		return nil, invalidHours("working_hours", "must be one JSON object")
	}
	if err := w.Normalize(); err != nil {
		return nil, err
	}
	return &w, nil
}

// Inside reports whether now falls within the schedule. No schedule, or a disabled one, means
// always inside.
func (w *WorkingHours) Inside(now time.Time) bool {
	if w == nil || !w.Enabled {
		return true
	}
	loc, err := zone.Location(w.TimeZone)
	if err != nil {
		// Normalize refused unknown zones when the schedule was saved; a zone that vanished from
		// the tz database since is read as UTC rather than locking the user out of routing.
		loc = time.UTC
	}
	t := now.In(loc)
	day := Days[(int(t.Weekday())+6)%7]
	m := t.Hour()*60 + t.Minute()
	for _, iv := range w.Days[day] {
		start, ok1 := parseClock(iv.Start, false)
		end, ok2 := parseClock(iv.End, true)
		if ok1 && ok2 && start <= m && m < end {
			return true
		}
	}
	return false
}
