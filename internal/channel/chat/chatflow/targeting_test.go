package chatflow

import (
	"testing"
)

func TestMatchURL(t *testing.T) {
	tests := []struct {
		op, value, page string
		want            bool
	}{
		// is: path and query, on any host.
		{OpIs, "/pricing", "https://example.com/pricing", true},
		{OpIs, "/pricing", "https://example.com/pricing/", true},
		{OpIs, "/pricing/", "https://example.com/pricing", true},
		{OpIs, "/pricing", "https://other.test/pricing#plans", true},
		{OpIs, "/pricing", "https://example.com/pricing?utm=x", false},
		{OpIs, "/pricing?utm=x", "https://example.com/pricing/?utm=x", true},
		{OpIs, "/pricing", "https://example.com/Pricing", false},
		{OpIs, "/pricing", "https://example.com/pricing/plans", false},
		{OpIs, "/", "https://example.com", true},
		{OpIs, "/", "https://example.com/", true},
		{OpIs, "/", "https://example.com/a", false},
		{OpIs, "/över", "https://example.com/%C3%B6ver", true},
		{OpIs, "/%c3%b6ver", "https://example.com/över", true},
		// is with a scheme: the whole URL, scheme and host case-insensitive.
		{OpIs, "https://example.com/pricing", "HTTPS://Example.COM/pricing/", true},
		{OpIs, "https://Example.com/pricing", "https://example.com:443/pricing", true},
		{OpIs, "http://example.com/pricing", "http://example.com:80/pricing", true},
		{OpIs, "https://example.com/pricing", "https://example.com:8443/pricing", false},
		{OpIs, "https://example.com/pricing", "http://example.com/pricing", false},
		{OpIs, "https://example.com/pricing", "https://www.example.com/pricing", false},
		{OpIs, "https://example.com/pricing", "https://user:pw@example.com/pricing", true},
		{OpIs, "https://example.com", "https://example.com/", true},
		{OpIs, "https://example.com/", "https://example.com", true},
		{OpIs, "https://example.com/a?b=1", "https://example.com/a?b=1", true},
		{OpIs, "https://example.com/a?b=1", "https://example.com/a?b=2", false},
		{OpIs, "https://example.com./a", "https://example.com/a", true},
		// is_not is the opposite.
		{OpIsNot, "/pricing", "https://example.com/pricing/", false},
		{OpIsNot, "/pricing", "https://example.com/about", true},
		{OpIsNot, "/pricing", "not a url", true},
		// contains.
		{OpContains, "pricing", "https://example.com/en/pricing?x=1", true},
		{OpContains, "Pricing", "https://example.com/en/pricing", false},
		{OpContains, "example.com", "https://EXAMPLE.com/", true},
		{OpContains, "utm_source=mail", "https://example.com/?utm_source=mail", true},
		{OpContains, "/blog/", "https://example.com/blog", true},
		{OpContains, "/blog/", "https://example.com/en/blog/post", true},
		{OpContains, "/blog/", "https://example.com/blogging", false},
		{OpContains, "/blog/", "https://example.com/blogging/blog?x", true},
		{OpContains, "/blog", "https://example.com/blogging", true},
		{OpContains, "docs", "https://example.com/#docs", false},
		// starts_with.
		{OpStartsWith, "/blog", "https://example.com/blog/post", true},
		{OpStartsWith, "/blog", "https://example.com/blogging", true},
		{OpStartsWith, "/blog/", "https://example.com/blogging", false},
		{OpStartsWith, "/blog/", "https://example.com/blog", true},
		{OpStartsWith, "/blog/", "https://example.com/blog/", true},
		{OpStartsWith, "/blog/", "https://example.com/blog?page=2", true},
		{OpStartsWith, "/blog/", "https://example.com/blog/2024/x", true},
		{OpStartsWith, "/blog/", "https://example.com/en/blog", false},
		{OpStartsWith, "/", "https://example.com/anything", true},
		{OpStartsWith, "https://example.com", "https://example.com/x", true},
		{OpStartsWith, "https://example.com", "https://example.com", true},
		{OpStartsWith, "https://example.com", "https://example.com?x=1", true},
		{OpStartsWith, "https://example.com", "https://example.com.evil.test/x", false},
		{OpStartsWith, "https://example.com", "https://example.com:8080/x", false},
		{OpStartsWith, "https://EXAMPLE.com/Docs/", "https://example.com/Docs/api", true},
		{OpStartsWith, "https://example.com/docs/", "https://example.com/Docs/api", false},
		{OpStartsWith, "www.Example.com/Docs", "https://WWW.example.com/Docs/api", true},
		{OpStartsWith, "www.example.com/", "https://www.example.com.evil.test/", false},
		{OpStartsWith, "www.example.com", "http://www.example.com/", true},
		// ends_with.
		{OpEndsWith, ".pdf", "https://example.com/files/a.pdf", true},
		{OpEndsWith, "/thanks", "https://example.com/order/thanks/", true},
		{OpEndsWith, "/thanks/", "https://example.com/order/thanks", true},
		{OpEndsWith, "/thanks", "https://example.com/order/nothanks", false},
		{OpEndsWith, "/thanks", "https://example.com/order/thanks?id=1", false},
		{OpEndsWith, "?step=2", "https://example.com/order?step=2", true},
		// Pages that are no URL compare as text and match little.
		{OpContains, "a", "", false},
		{OpStartsWith, "/", "", false},
		{OpIs, "/x", "/x", true},
		{OpContains, "x", "%zz://::", false},
	}
	for _, tt := range tests {
		if got := matchURL(tt.op, normalisePage(tt.page), tt.value); got != tt.want {
			t.Errorf("%s %q on %q = %v, want %v", tt.op, tt.value, tt.page, got, tt.want)
		}
	}
}

func rule(field, op, name, value string) Rule {
	return Rule{Field: field, Operator: op, Name: name, Value: value}
}

func TestRules(t *testing.T) {
	tests := []struct {
		name string
		r    Rule
		page Page
		want bool
	}{
		{"param equals", rule(FieldQueryParam, OpEquals, "utm_source", "mail"), Page{URL: "https://e.test/?utm_source=mail"}, true},
		{"param equals decoded", rule(FieldQueryParam, OpEquals, "q", "a b"), Page{URL: "https://e.test/?q=a+b"}, true},
		{"param equals other value", rule(FieldQueryParam, OpEquals, "utm_source", "mail"), Page{URL: "https://e.test/?utm_source=mailing"}, false},
		{"param equals any of repeated", rule(FieldQueryParam, OpEquals, "tag", "b"), Page{URL: "https://e.test/?tag=a&tag=b"}, true},
		{"param name case-sensitive", rule(FieldQueryParam, OpEquals, "UTM_SOURCE", "mail"), Page{URL: "https://e.test/?utm_source=mail"}, false},
		{"param contains", rule(FieldQueryParam, OpContains, "ref", "partner"), Page{URL: "https://e.test/x?ref=big-partner-co"}, true},
		{"param contains missing", rule(FieldQueryParam, OpContains, "ref", "partner"), Page{URL: "https://e.test/x"}, false},
		{"param exists empty", rule(FieldQueryParam, OpExists, "debug", ""), Page{URL: "https://e.test/?debug"}, true},
		{"param exists not", rule(FieldQueryParam, OpExists, "debug", ""), Page{URL: "https://e.test/?debugging=1"}, false},
		{"param in fragment is no param", rule(FieldQueryParam, OpExists, "x", ""), Page{URL: "https://e.test/#?x=1"}, false},
		{"param of a broken query", rule(FieldQueryParam, OpEquals, "a", "1"), Page{URL: "https://e.test/?b=%zz&a=1"}, true},
		{"known", rule(FieldVisitor, OpKnown, "", ""), Page{Known: true}, true},
		{"known unknown visitor", rule(FieldVisitor, OpKnown, "", ""), Page{}, false},
		{"unknown", rule(FieldVisitor, OpUnknown, "", ""), Page{}, true},
		{"unknown known visitor", rule(FieldVisitor, OpUnknown, "", ""), Page{Known: true}, false},
		{"referrer", rule(FieldReferrer, OpContains, "", "google."), Page{URL: "https://e.test/", Referrer: "https://www.google.com/"}, true},
		{"referrer none", rule(FieldReferrer, OpContains, "", "google."), Page{URL: "https://google.test/"}, false},
		{"referrer is_not none", rule(FieldReferrer, OpIsNot, "", "https://e.test/"), Page{URL: "https://e.test/"}, true},
		{"unknown field", rule("cookie", OpIs, "", "x"), Page{URL: "https://e.test/x"}, false},
		{"unknown operator", rule(FieldPageURL, "matches", "", "x"), Page{URL: "https://e.test/x"}, false},
	}
	for _, tt := range tests {
		if got := tt.r.matches(newFacts(tt.page)); got != tt.want {
			t.Errorf("%s: %+v on %+v = %v, want %v", tt.name, tt.r, tt.page, got, tt.want)
		}
	}
}

func TestTargetingGroups(t *testing.T) {
	pricing := rule(FieldPageURL, OpStartsWith, "", "/pricing")
	docs := rule(FieldPageURL, OpStartsWith, "", "/docs")
	known := rule(FieldVisitor, OpKnown, "", "")
	campaign := rule(FieldQueryParam, OpExists, "utm_campaign", "")
	tg := Targeting{
		// (pricing AND known) OR docs
		Groups: []Group{{Rules: []Rule{pricing, known}}, {Rules: []Rule{docs}}},
		// not on pages of a campaign, nor on the docs' changelog
		Exclusions: []Group{{Rules: []Rule{campaign}}, {Rules: []Rule{rule(FieldPageURL, OpContains, "", "/changelog")}}},
	}
	tests := []struct {
		page Page
		want bool
	}{
		{Page{URL: "https://e.test/pricing", Known: true}, true},
		{Page{URL: "https://e.test/pricing"}, false},
		{Page{URL: "https://e.test/docs/start"}, true},
		{Page{URL: "https://e.test/docs/start", Known: true}, true},
		{Page{URL: "https://e.test/about", Known: true}, false},
		{Page{URL: "https://e.test/docs/start?utm_campaign=spring"}, false},
		{Page{URL: "https://e.test/pricing?utm_campaign=spring", Known: true}, false},
		{Page{URL: "https://e.test/docs/changelog"}, false},
	}
	for _, tt := range tests {
		if got := tg.Matches(tt.page); got != tt.want {
			t.Errorf("%+v: got %v, want %v", tt.page, got, tt.want)
		}
	}

	everywhere := Targeting{}
	if !everywhere.Matches(Page{URL: "https://e.test/x"}) || !everywhere.Matches(Page{}) {
		t.Error("targeting without groups must match every page")
	}
	exceptDocs := Targeting{Exclusions: []Group{{Rules: []Rule{docs}}}}
	if !exceptDocs.Matches(Page{URL: "https://e.test/x"}) || exceptDocs.Matches(Page{URL: "https://e.test/docs"}) {
		t.Error("exclusions alone must match every page but the excluded ones")
	}
}

func TestPick(t *testing.T) {
	on := func(path string) Targeting {
		return Targeting{Groups: []Group{{Rules: []Rule{rule(FieldPageURL, OpStartsWith, "", path)}}}}
	}
	flows := []Flow{
		{ID: 1, Name: "everywhere", Enabled: true, Priority: 100},
		{ID: 2, Name: "pricing", Enabled: true, Priority: 10, Targeting: on("/pricing/")},
		{ID: 3, Name: "pricing tie, higher id", Enabled: true, Priority: 10, Targeting: on("/pricing/")},
		{ID: 4, Name: "disabled but first", Enabled: false, Priority: 0},
		{ID: 5, Name: "docs desktop", Enabled: true, Priority: 5, Targeting: on("/docs/"), Display: Display{HideOnMobile: true}},
		{ID: 6, Name: "docs", Enabled: true, Priority: 6, Targeting: on("/docs/")},
		{ID: 7, Name: "known only", Enabled: true, Priority: 1,
			Targeting: Targeting{Groups: []Group{{Rules: []Rule{rule(FieldVisitor, OpKnown, "", "")}}}}},
	}
	tests := []struct {
		page Page
		want int64 // 0 for none
	}{
		{Page{URL: "https://e.test/"}, 1},
		{Page{URL: "https://e.test/pricing"}, 2},
		{Page{URL: "https://e.test/pricing/team", Mobile: true}, 2},
		{Page{URL: "https://e.test/docs/api"}, 5},
		{Page{URL: "https://e.test/docs/api", Mobile: true}, 6},
		{Page{URL: "https://e.test/pricing", Known: true}, 7},
	}
	for _, tt := range tests {
		got := Pick(flows, tt.page)
		var id int64
		if got != nil {
			id = got.ID
		}
		if id != tt.want {
			t.Errorf("%+v: picked %d, want %d", tt.page, id, tt.want)
		}
	}
	// Ties go to the lowest id whatever the order of the list.
	rev := []Flow{flows[2], flows[1]}
	if got := Pick(rev, Page{URL: "https://e.test/pricing"}); got == nil || got.ID != 2 {
		t.Errorf("tie: picked %+v, want flow 2", got)
	}
	if got := Pick(flows[1:2], Page{URL: "https://e.test/about"}); got != nil {
		t.Errorf("no match: picked %+v", got)
	}
	if got := Pick(nil, Page{URL: "https://e.test/"}); got != nil {
		t.Errorf("no flows: picked %+v", got)
	}
	// The result points into the list, so callers can tell which flow it is.
	if got := Pick(flows, Page{URL: "https://e.test/"}); got != &flows[0] {
		t.Error("Pick must return a pointer into flows")
	}
}
