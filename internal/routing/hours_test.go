package routing

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
)

func mustHours(t *testing.T, js string) *WorkingHours {
	t.Helper()
	w, err := ParseWorkingHours([]byte(js))
	if err != nil {
		t.Fatalf("parse %s: %v", js, err)
	}
	return w
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWorkingHoursAcrossTimeZones(t *testing.T) {
	weekdays := `"mon": [{"start": "09:00", "end": "17:00"}], "tue": [{"start": "09:00", "end": "17:00"}],
		"wed": [{"start": "09:00", "end": "17:00"}], "thu": [{"start": "09:00", "end": "17:00"}],
		"fri": [{"start": "09:00", "end": "17:00"}]`
	tokyo := mustHours(t, `{"enabled": true, "time_zone": "Asia/Tokyo", "days": {`+weekdays+`}}`)
	newYork := mustHours(t, `{"enabled": true, "time_zone": "America/New_York", "days": {`+weekdays+`}}`)
	cases := []struct {
		now            string
		tokyo, newYork bool
	}{
		// Tuesday 01:00 UTC: 10:00 Tuesday in Tokyo, 21:00 Monday in New York (EDT).
		{"2025-06-03T01:00:00Z", true, false},
		// Tuesday 14:00 UTC: 23:00 in Tokyo, 10:00 in New York.
		{"2025-06-03T14:00:00Z", false, true},
		// Friday 23:30 UTC: 08:30 Saturday in Tokyo, 19:30 Friday in New York: both off.
		{"2025-06-06T23:30:00Z", false, false},
		// Monday 00:00 UTC: 09:00 Monday in Tokyo (the first minute counts), 20:00 Sunday in New York.
		{"2025-06-02T00:00:00Z", true, false},
		// Monday 08:00 UTC: 17:00 in Tokyo (the end is exclusive).
		{"2025-06-02T08:00:00Z", false, false},
		// Monday 20:59 UTC: 16:59 in New York.
		{"2025-06-02T20:59:00Z", false, true},
	}
	for _, c := range cases {
		now := utc(c.now)
		if got := tokyo.Inside(now); got != c.tokyo {
			t.Errorf("%s: Tokyo inside = %v, want %v", c.now, got, c.tokyo)
		}
		if got := newYork.Inside(now); got != c.newYork {
			t.Errorf("%s: New York inside = %v, want %v", c.now, got, c.newYork)
		}
	}
}

func TestWorkingHoursDaylightSaving(t *testing.T) {
	// Sundays 09:00–17:00 Stockholm time. DST starts on 2025-03-30 (CET UTC+1 → CEST UTC+2) and
	// ends on 2025-10-26; the local hours stay the same, so the UTC hours move.
	w := mustHours(t, `{"enabled": true, "time_zone": "Europe/Stockholm", "days": {"sun": [{"start": "09:00", "end": "17:00"}]}}`)
	cases := []struct {
		now  string
		want bool
	}{
		{"2025-03-23T07:30:00Z", false}, // 08:30 CET, the Sunday before
		{"2025-03-23T08:30:00Z", true},  // 09:30 CET
		{"2025-03-30T07:30:00Z", true},  // 09:30 CEST on the day the clocks go forward
		{"2025-03-30T06:59:00Z", false}, // 08:59 CEST
		{"2025-03-30T15:00:00Z", false}, // 17:00 CEST: over
		{"2025-03-30T14:59:00Z", true},
		{"2025-10-26T07:30:00Z", false}, // 08:30 CET on the day the clocks go back
		{"2025-10-26T08:00:00Z", true},  // 09:00 CET
		{"2025-10-26T15:59:00Z", true},  // 16:59 CET
	}
	for _, c := range cases {
		if got := w.Inside(utc(c.now)); got != c.want {
			t.Errorf("%s: inside = %v, want %v", c.now, got, c.want)
		}
	}
	// A schedule through the hour that does not exist (02:00–03:00 on 2025-03-30) still covers
	// the hour on each side of it.
	night := mustHours(t, `{"enabled": true, "time_zone": "Europe/Stockholm", "days": {"sun": [{"start": "01:00", "end": "04:00"}]}}`)
	for _, now := range []string{"2025-03-30T00:30:00Z", "2025-03-30T01:30:00Z"} { // 01:30 CET, 03:30 CEST
		if !night.Inside(utc(now)) {
			t.Errorf("%s: outside the night shift", now)
		}
	}
}

func TestWorkingHoursDisabledOrMissing(t *testing.T) {
	var none *WorkingHours
	now := utc("2025-06-07T03:00:00Z")
	if !none.Inside(now) {
		t.Error("no schedule must mean always inside")
	}
	off := mustHours(t, `{"enabled": false, "time_zone": "UTC", "days": {}}`)
	if !off.Inside(now) {
		t.Error("a disabled schedule must mean always inside")
	}
	empty := mustHours(t, `{"enabled": true, "time_zone": "UTC", "days": {}}`)
	if empty.Inside(now) {
		t.Error("an enabled schedule without hours must mean always outside")
	}
	wholeDay := mustHours(t, `{"enabled": true, "time_zone": "UTC", "days": {"sat": [{"start": "00:00", "end": "24:00"}]}}`)
	if !wholeDay.Inside(utc("2025-06-07T23:59:00Z")) || !wholeDay.Inside(utc("2025-06-07T00:00:00Z")) {
		t.Error("00:00–24:00 must cover the whole day")
	}
}

func TestWorkingHoursNormalize(t *testing.T) {
	w := mustHours(t, `{"enabled": true, "time_zone": "Europe/Stockholm", "days": {"mon": [
		{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}]}}`)
	if len(w.Days) != 7 {
		t.Fatalf("days %v: want all seven", w.Days)
	}
	if got := w.Days["mon"]; got[0].Start != "08:00" || got[1].Start != "13:00" {
		t.Errorf("mon = %v, want sorted by start", got)
	}
	if w.Days["sun"] == nil {
		t.Error("sun must be an empty list, not null")
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	again := mustHours(t, string(b))
	if b2, _ := json.Marshal(again); string(b2) != string(b) {
		t.Errorf("not stable: %s then %s", b, b2)
	}

	bad := []struct{ js, code, field string }{
		{`{"enabled": true, "time_zone": "Mars/Olympus", "days": {}}`, "invalid_time_zone", "time_zone"},
		{`{"enabled": true, "time_zone": "", "days": {}}`, "invalid_time_zone", "time_zone"},
		{`{"enabled": true, "time_zone": "Local", "days": {}}`, "invalid_time_zone", "time_zone"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"monday": []}}`, "invalid_working_hours", "days"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "9:00", "end": "17:00"}]}}`, "invalid_working_hours", "days.mon[0].start"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "09:00", "end": "24:01"}]}}`, "invalid_working_hours", "days.mon[0].end"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "24:00", "end": "24:00"}]}}`, "invalid_working_hours", "days.mon[0].start"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "09:60", "end": "10:00"}]}}`, "invalid_working_hours", "days.mon[0].start"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "17:00", "end": "09:00"}]}}`, "invalid_working_hours", "days.mon[0]"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "09:00", "end": "09:00"}]}}`, "invalid_working_hours", "days.mon[0]"},
		{`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "17:00"}]}}`, "invalid_working_hours", "days.mon"},
		{`{"enabled": true, "time_zone": "UTC", "days": {}, "extra": 1}`, "invalid_working_hours", "working_hours"},
		{`{"enabled": true, "time_zone": "UTC", "days": {}} {}`, "invalid_working_hours", "working_hours"},
		{`[]`, "invalid_working_hours", "working_hours"},
	}
	for _, b := range bad {
		_, err := ParseWorkingHours([]byte(b.js))
		p, ok := problem.As(err)
		if !ok || p.Code != b.code || p.Fields[b.field] == "" {
			t.Errorf("%s: got %v (fields %v), want %s on %s", b.js, err, fieldsOf(p), b.code, b.field)
		}
	}
	// Back-to-back intervals do not overlap.
	mustHours(t, `{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "17:00"}]}}`)
}

func fieldsOf(p *problem.Error) map[string]string {
	if p == nil {
		return nil
	}
	return p.Fields
}

// FuzzWorkingHours feeds arbitrary JSON to the schedule parser: it must never panic, and what
// it accepts must survive a round trip and answer Inside at any instant.
func FuzzWorkingHours(f *testing.F) {
	f.Add([]byte(`{"enabled": true, "time_zone": "Europe/Stockholm", "days": {"mon": [{"start": "09:00", "end": "17:00"}]}}`))
	f.Add([]byte(`{"enabled": false, "time_zone": "UTC", "days": {}}`))
	f.Add([]byte(`{"enabled": true, "time_zone": "Asia/Tokyo", "days": {"sun": [{"start": "00:00", "end": "24:00"}], "sat": []}}`))
	f.Add([]byte(`{"enabled": true, "time_zone": "UTC", "days": {"mon": [{"start": "23:59", "end": "24:00"}, {"start": "00:00", "end": "00:01"}]}}`))
	f.Add([]byte(`{"time_zone": "../../etc/passwd"}`))
	f.Add([]byte(`{"days": {"mon": [{"start": "99:99", "end": "-1:00"}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ParseWorkingHours(data)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("error %v is not a problem", err)
			}
			return
		}
		w.Inside(time.Unix(1_750_000_000, 0))
		b, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseWorkingHours(b)
		if err != nil {
			t.Fatalf("accepted %s but not its own rendering %s: %v", data, b, err)
		}
		if b2, _ := json.Marshal(again); string(b2) != string(b) {
			t.Fatalf("rendering not stable: %s then %s", b, b2)
		}
	})
}
