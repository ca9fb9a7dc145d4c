package chatflow

import (
	"testing"
	"time"
)

var stockholm = mustLocation("Europe/Stockholm")

func mustLocation(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// sthlm is a wall-clock time in Stockholm; the zone abbreviation in failures shows the offset.
func sthlm(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, stockholm)
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func hoursFlow(days map[string][]Interval, holidays ...string) *Flow {
	f := New()
	f.Name, f.InboxID = "Hours", 1
	f.Availability = Availability{Mode: ModeBusinessHours,
		BusinessHours: &BusinessHours{TimeZone: "Europe/Stockholm", Days: days, Holidays: holidays}}
	return f
}

func iv(start, end string) Interval { return Interval{Start: start, End: end} }

func TestAvailableModes(t *testing.T) {
	at := utc(2026, 3, 30, 12, 0)
	f := New()
	f.Availability.Mode = ModeAlways
	for _, anyone := range []bool{false, true} {
		if s := Available(f, at, anyone); s != (Status{State: StateOpen, Reason: ReasonAlways}) {
			t.Errorf("always, anyone %v: %+v", anyone, s)
		}
	}
	f.Availability.Mode = ModeTeamStatus
	if s := Available(f, at, true); s != (Status{State: StateOpen, Reason: ReasonTeamAvailable}) {
		t.Errorf("team status, someone available: %+v", s)
	}
	if s := Available(f, at, false); s != (Status{State: StateAway, Reason: ReasonTeamAway}) || !s.Away() {
		t.Errorf("team status, nobody available: %+v", s)
	}
	// Business hours open the chat whoever is online.
	h := hoursFlow(map[string][]Interval{"mon": {iv("09:00", "17:00")}})
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := Available(h, sthlm(2026, 3, 30, 10, 0), false); s.State != StateOpen || s.Reason != ReasonBusinessHours {
		t.Errorf("business hours, nobody available: %+v", s)
	}
	if s := Available(h, sthlm(2026, 3, 30, 18, 0), true); s.State != StateAway || s.BackAt == nil {
		t.Errorf("outside business hours, someone available: %+v", s)
	}
}

func TestBusinessHours(t *testing.T) {
	weekdays := map[string][]Interval{
		"mon": {iv("09:00", "17:00")}, "tue": {iv("09:00", "17:00")}, "wed": {iv("09:00", "17:00")},
		"thu": {iv("09:00", "17:00")}, "fri": {iv("09:00", "12:00"), iv("13:00", "17:00"), iv("22:00", "02:00")},
	}
	// The night of the spring change (29 March 2026, 02:00 CET → 03:00 CEST) and of the autumn
	// one (25 October 2026, 03:00 CEST → 02:00 CET) have openings inside the skipped and the
	// repeated hour.
	dst := map[string][]Interval{"sun": {iv("02:30", "04:00")}, "mon": {iv("09:00", "17:00")}}
	overnight := map[string][]Interval{"sat": {iv("22:00", "06:00")}}
	onlyMonday := map[string][]Interval{"mon": {iv("09:00", "10:00")}}
	tests := []struct {
		name     string
		days     map[string][]Interval
		holidays []string
		at       time.Time
		open     bool
		reason   string // when away
		backAt   time.Time
	}{
		{"inside", weekdays, nil, sthlm(2026, 3, 30, 10, 0), true, "", time.Time{}},
		{"at the start", weekdays, nil, sthlm(2026, 3, 30, 9, 0), true, "", time.Time{}},
		{"before the start", weekdays, nil, sthlm(2026, 3, 30, 8, 59), false, ReasonOutsideBusinessHours, sthlm(2026, 3, 30, 9, 0)},
		{"at the end", weekdays, nil, sthlm(2026, 3, 30, 17, 0), false, ReasonOutsideBusinessHours, sthlm(2026, 3, 31, 9, 0)},
		{"lunch break", weekdays, nil, sthlm(2026, 4, 3, 12, 30), false, ReasonOutsideBusinessHours, sthlm(2026, 4, 3, 13, 0)},
		{"after lunch", weekdays, nil, sthlm(2026, 4, 3, 13, 0), true, "", time.Time{}},
		{"friday evening", weekdays, nil, sthlm(2026, 4, 3, 18, 0), false, ReasonOutsideBusinessHours, sthlm(2026, 4, 3, 22, 0)},
		{"friday night", weekdays, nil, sthlm(2026, 4, 3, 23, 59), true, "", time.Time{}},
		{"past midnight into saturday", weekdays, nil, sthlm(2026, 4, 4, 1, 59), true, "", time.Time{}},
		{"saturday after the night shift", weekdays, nil, sthlm(2026, 4, 4, 2, 0), false, ReasonOutsideBusinessHours, sthlm(2026, 4, 6, 9, 0)},
		{"sunday", weekdays, nil, sthlm(2026, 4, 5, 12, 0), false, ReasonOutsideBusinessHours, sthlm(2026, 4, 6, 9, 0)},
		{"zone other than the caller's", weekdays, nil, utc(2026, 3, 30, 7, 30), true, "", time.Time{}},
		{"utc before stockholm opens", weekdays, nil, utc(2026, 3, 30, 6, 59), false, ReasonOutsideBusinessHours, utc(2026, 3, 30, 7, 0)},

		// Spring: 02:30 does not exist on 29 March; the opening is when the clock jumps to 03:00.
		{"spring: saturday", dst, nil, sthlm(2026, 3, 28, 12, 0), false, ReasonOutsideBusinessHours, utc(2026, 3, 29, 1, 0)},
		{"spring: before the jump", dst, nil, utc(2026, 3, 29, 0, 59), false, ReasonOutsideBusinessHours, utc(2026, 3, 29, 1, 0)},
		{"spring: at the jump", dst, nil, utc(2026, 3, 29, 1, 0), true, "", time.Time{}},
		{"spring: 03:59 CEST", dst, nil, sthlm(2026, 3, 29, 3, 59), true, "", time.Time{}},
		{"spring: 04:00 CEST", dst, nil, sthlm(2026, 3, 29, 4, 0), false, ReasonOutsideBusinessHours, utc(2026, 3, 30, 7, 0)},
		{"spring: monday in summer time", dst, nil, utc(2026, 3, 30, 6, 59), false, ReasonOutsideBusinessHours, utc(2026, 3, 30, 7, 0)},
		{"spring: monday before the change", dst, nil, utc(2026, 3, 23, 7, 30), false, ReasonOutsideBusinessHours, utc(2026, 3, 23, 8, 0)},
		// Autumn: 02:30 happens twice on 25 October; the opening is the first, the closing 04:00 CET.
		{"autumn: before", dst, nil, utc(2026, 10, 25, 0, 29), false, ReasonOutsideBusinessHours, utc(2026, 10, 25, 0, 30)},
		{"autumn: first 02:30", dst, nil, utc(2026, 10, 25, 0, 30), true, "", time.Time{}},
		{"autumn: second 02:15", dst, nil, utc(2026, 10, 25, 1, 15), true, "", time.Time{}},
		{"autumn: 03:59 CET", dst, nil, utc(2026, 10, 25, 2, 59), true, "", time.Time{}},
		{"autumn: 04:00 CET", dst, nil, utc(2026, 10, 25, 3, 0), false, ReasonOutsideBusinessHours, utc(2026, 10, 26, 8, 0)},
		// A night shift over the change is an hour shorter in spring and longer in autumn.
		{"spring night: 22:00 CET", overnight, nil, utc(2026, 3, 28, 21, 0), true, "", time.Time{}},
		{"spring night: 05:59 CEST", overnight, nil, utc(2026, 3, 29, 3, 59), true, "", time.Time{}},
		{"spring night: 06:00 CEST", overnight, nil, utc(2026, 3, 29, 4, 0), false, ReasonOutsideBusinessHours, utc(2026, 4, 4, 20, 0)},
		{"autumn night: 05:59 CET", overnight, nil, utc(2026, 10, 25, 4, 59), true, "", time.Time{}},
		{"autumn night: 06:00 CET", overnight, nil, utc(2026, 10, 25, 5, 0), false, ReasonOutsideBusinessHours, utc(2026, 10, 31, 21, 0)},

		// Holidays close the whole day in Stockholm.
		{"holiday", weekdays, []string{"2026-12-24", "2026-12-25"}, sthlm(2026, 12, 24, 10, 0), false, ReasonHoliday, sthlm(2026, 12, 28, 9, 0)},
		{"holiday in utc terms", weekdays, []string{"2026-12-24"}, utc(2026, 12, 23, 23, 30), false, ReasonHoliday, sthlm(2026, 12, 25, 9, 0)},
		{"day before a holiday", weekdays, []string{"2026-12-24"}, sthlm(2026, 12, 23, 16, 0), true, "", time.Time{}},
		{"night shift into a holiday", weekdays, []string{"2026-06-20"}, sthlm(2026, 6, 19, 23, 30), true, "", time.Time{}},
		{"night shift stops at the holiday", weekdays, []string{"2026-06-20"}, sthlm(2026, 6, 20, 0, 30), false, ReasonHoliday, sthlm(2026, 6, 22, 9, 0)},
		{"night shift of a holiday does not run", weekdays, []string{"2026-06-19"}, sthlm(2026, 6, 19, 22, 30), false, ReasonHoliday, sthlm(2026, 6, 22, 9, 0)},
		{"after the night shift of a holiday", weekdays, []string{"2026-06-19"}, sthlm(2026, 6, 20, 1, 0), false, ReasonOutsideBusinessHours, sthlm(2026, 6, 22, 9, 0)},
		{"holidays on three mondays", onlyMonday, []string{"2026-04-06", "2026-04-13", "2026-04-20"}, sthlm(2026, 4, 3, 12, 0),
			false, ReasonOutsideBusinessHours, sthlm(2026, 4, 27, 9, 0)},
		{"past holidays do not matter", onlyMonday, []string{"2025-01-06"}, sthlm(2026, 4, 6, 9, 30), true, "", time.Time{}},
	}
	for _, tt := range tests {
		f := hoursFlow(tt.days, tt.holidays...)
		if err := f.Validate(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		s := Available(f, tt.at, true)
		if tt.open {
			if s != (Status{State: StateOpen, Reason: ReasonBusinessHours}) {
				t.Errorf("%s (%s): %+v, want open", tt.name, tt.at.In(stockholm), s)
			}
			continue
		}
		if s.State != StateAway || s.Reason != tt.reason || s.BackAt == nil || !s.BackAt.Equal(tt.backAt) {
			var back time.Time
			if s.BackAt != nil {
				back = s.BackAt.In(stockholm)
			}
			t.Errorf("%s (%s): %s %s back at %s, want away %s back at %s", tt.name, tt.at.In(stockholm),
				s.State, s.Reason, back, tt.reason, tt.backAt.In(stockholm))
		}
	}
}

// However many holidays close the only day with hours, the back-at time is the first day after
// them, not a guess or nothing.
func TestBackAtAfterManyHolidays(t *testing.T) {
	var holidays []string
	for d := utc(2026, 4, 6, 0, 0); len(holidays) < maxHolidays; d = d.AddDate(0, 0, 7) {
		holidays = append(holidays, d.Format(time.DateOnly))
	}
	for _, n := range []int{maxHolidays, 17} {
		f := hoursFlow(map[string][]Interval{"mon": {iv("09:00", "10:00")}}, holidays[:n]...)
		if err := f.Validate(); err != nil {
			t.Fatal(err)
		}
		last, _ := time.Parse(time.DateOnly, holidays[n-1])
		want := sthlm(last.Year(), last.Month(), last.Day()+7, 9, 0)
		if s := Available(f, sthlm(2026, 4, 3, 12, 0), true); s.State != StateAway || s.BackAt == nil || !s.BackAt.Equal(want) {
			t.Errorf("%d holidays: got %+v, want back at %s", n, s, want)
		}
	}
	// A schedule without hours (only possible unvalidated) never opens: no back-at time.
	f := hoursFlow(map[string][]Interval{})
	if s := Available(f, sthlm(2026, 4, 3, 12, 0), true); s.State != StateAway || s.BackAt != nil {
		t.Errorf("no hours: got %+v", s)
	}
}

func TestResolve(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return utc(y, m, d, 0, 0) }
	tests := []struct {
		name   string
		loc    *time.Location
		d      time.Time
		minute int
		want   time.Time
	}{
		{"plain", stockholm, day(2026, 1, 5), 9 * 60, utc(2026, 1, 5, 8, 0)},
		{"next day", stockholm, day(2026, 1, 5), 24*60 + 60, utc(2026, 1, 6, 0, 0)},
		{"midnight", stockholm, day(2026, 1, 5), 24 * 60, utc(2026, 1, 5, 23, 0)},
		{"gap start", stockholm, day(2026, 3, 29), 2 * 60, utc(2026, 3, 29, 1, 0)},
		{"in the gap", stockholm, day(2026, 3, 29), 2*60 + 59, utc(2026, 3, 29, 1, 0)},
		{"after the gap", stockholm, day(2026, 3, 29), 3 * 60, utc(2026, 3, 29, 1, 0)},
		{"after the gap plus one", stockholm, day(2026, 3, 29), 3*60 + 1, utc(2026, 3, 29, 1, 1)},
		{"repeated hour: first", stockholm, day(2026, 10, 25), 2*60 + 30, utc(2026, 10, 25, 0, 30)},
		{"after the repeat", stockholm, day(2026, 10, 25), 3 * 60, utc(2026, 10, 25, 2, 0)},
		{"utc", time.UTC, day(2026, 3, 29), 150, utc(2026, 3, 29, 2, 30)},
		// Lord Howe Island moves its clock by half an hour.
		{"half hour gap", mustLocation("Australia/Lord_Howe"), day(2026, 10, 4), 2*60 + 10, utc(2026, 10, 3, 15, 30)},
	}
	for _, tt := range tests {
		if got := resolve(tt.loc, tt.d, tt.minute); !got.Equal(tt.want) {
			t.Errorf("%s: got %s, want %s", tt.name, got.UTC(), tt.want)
		}
	}
}
