package chatflow

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
)

// isPlainHost reports whether a host is lower-case ASCII letters, digits, dots, dashes and a
// port: upper-casing it then changes nothing but its case.
func isPlainHost(h string) bool {
	return h != "" && strings.Trim(h, "abcdefghijklmnopqrstuvwxyz0123456789.-:") == ""
}

// FuzzMatchURL runs odd page URLs and rule values through URL matching: it never panics, is_not
// is the opposite of is, "is" implies the other positive operators, and neither the case of the
// scheme and host nor a trailing slash changes a result.
func FuzzMatchURL(f *testing.F) {
	f.Add("https://example.com/pricing/", "/pricing")
	f.Add("HTTPS://Example.com:443/a/b?x=1#frag", "https://example.com/a/")
	f.Add("http://example.com", "/")
	f.Add("https://example.com/%C3%B6ver?q=a+b", "/över")
	f.Add("https://[::1]:8080/x", "https://[::1]:8080")
	f.Add("https://user:pw@example.com/p", "example.com/p")
	f.Add("javascript:alert(1)", "alert")
	f.Add("", "")
	f.Add("%zz", "%zz")
	f.Add("https://example.com/a%2F/", "/a/")
	f.Add("https://example.com//", "?x")
	f.Add("\x00http://\xff/", "//")
	f.Fuzz(func(t *testing.T, page, value string) {
		n := normalisePage(page)
		got := map[string]bool{}
		for _, op := range URLOps {
			got[op] = matchURL(op, n, value)
		}
		if got[OpIs] == got[OpIsNot] {
			t.Fatalf("%q on %q: is %v and is_not %v", value, page, got[OpIs], got[OpIsNot])
		}
		v := strings.TrimSpace(value)
		sameSubject := strings.HasPrefix(v, "/") || absoluteHTTP(v)
		if sameSubject && got[OpIs] && !(got[OpStartsWith] && got[OpEndsWith] && got[OpContains]) {
			t.Fatalf("%q on %q: is but %v", value, page, got)
		}
		if sameSubject && got[OpStartsWith] && !got[OpContains] {
			t.Fatalf("%q on %q: starts_with but not contains", value, page)
		}

		u, err := url.Parse(strings.TrimSpace(page))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
			return
		}
		same := func(variant, what string) {
			m := normalisePage(variant)
			for _, op := range URLOps {
				if matchURL(op, m, value) != got[op] {
					t.Fatalf("%s %q: %q gives %v, %q gives %v", op, value, page, got[op], variant, !got[op])
				}
			}
			if !reflect.DeepEqual(m.query, n.query) {
				t.Fatalf("%s changed the query: %v vs %v", what, n.query, m.query)
			}
		}
		raw := strings.TrimSpace(page)
		prefix := u.Scheme + "://" + u.Host
		if isPlainHost(u.Host) && strings.HasPrefix(raw, prefix) {
			same(strings.ToUpper(prefix)+raw[len(prefix):], "upper case")
		}
		if !strings.ContainsAny(raw, "?#") && !strings.ContainsAny(raw, " \t\r\n") {
			if v, err := url.Parse(raw + "/"); err == nil && v.Host == u.Host {
				same(raw+"/", "a trailing slash")
			}
		}
	})
}

// FuzzParse feeds arbitrary JSON to Parse: it never panics, refuses with an invalid problem or
// returns a flow that survives a round trip unchanged, validates again as it is, and runs through
// Pick, Available and Decide.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte(`{"name":"x","inbox_id":1}`))
	f.Add([]byte(`{"name":"b","type":"bot","inbox_id":1,"bot":{"id":1,"version":1},"availability":{"mode":"business_hours",` +
		`"business_hours":{"time_zone":"America/New_York","days":{"sun":[{"start":"23:00","end":"01:00"}],"sat":[{"start":"00:00","end":"24:00"}]},"holidays":["2026-03-08"]}}}`))
	f.Add([]byte(`{"name":"q","inbox_id":1,"targeting":{"groups":[{"rules":[{"field":"query_param","operator":"exists","name":"a"}]}],` +
		`"exclusions":[{"rules":[{"field":"visitor","operator":"known"}]}]},"display":{"behaviour":"open","trigger":{"kind":"exit_intent"}}}`))
	f.Add([]byte(`{"name":"\u0000","inbox_id":-1,"priority":1e3}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"availability":{"business_hours":{"days":{"mon":null}}}}`))
	at := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := Parse(data)
		if err != nil {
			if p, ok := problem.As(err); !ok || p.Kind != problem.Invalid || p.Code == "" || len(p.Fields) == 0 {
				t.Fatalf("Parse(%q): %v is not an invalid-input problem with fields", data, err)
			}
			return
		}
		out, err := json.Marshal(fl)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
		if !reflect.DeepEqual(fl, again) {
			t.Fatalf("round trip changed the flow:\n%+v\n%+v", fl, again)
		}
		if err := again.Validate(); err != nil || !reflect.DeepEqual(fl, again) {
			t.Fatalf("validating again: %v, %+v", err, again)
		}
		fl.Enabled = true
		for _, pg := range []Page{{URL: "https://example.com/pricing?utm_campaign=spring"}, {URL: "::", Known: true, Mobile: true}} {
			_ = Pick([]Flow{*fl}, pg)
		}
		for _, anyone := range []bool{false, true} {
			s := Available(fl, at, anyone)
			if s.State != StateOpen && s.State != StateAway {
				t.Fatalf("state %q", s.State)
			}
			if s.BackAt != nil && !s.BackAt.After(at) {
				t.Fatalf("back at %s is not after %s", s.BackAt, at)
			}
			if s.State == StateAway && fl.Availability.Mode == ModeBusinessHours && s.BackAt == nil {
				t.Fatalf("away under business hours without a back-at time: %s", out)
			}
			if s.BackAt != nil && Available(fl, *s.BackAt, anyone).State != StateOpen {
				t.Fatalf("not open at its back-at time %s: %s", s.BackAt, out)
			}
			_ = Decide(fl, Facts{Mobile: anyone, Status: s})
		}
	})
}
