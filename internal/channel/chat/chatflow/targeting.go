package chatflow

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// What a targeting rule looks at.
const (
	FieldPageURL    = "page_url"
	FieldReferrer   = "referrer" // the page the visitor came from, compared like the page URL
	FieldQueryParam = "query_param"
	FieldVisitor    = "visitor"
)

// Operators. URL fields take is, is_not, contains, starts_with, ends_with; query parameters
// equals, contains, exists; the visitor known or unknown.
const (
	OpIs         = "is"
	OpIsNot      = "is_not"
	OpContains   = "contains"
	OpStartsWith = "starts_with"
	OpEndsWith   = "ends_with"
	OpEquals     = "equals"
	OpExists     = "exists"
	OpKnown      = "known"
	OpUnknown    = "unknown"
)

// The operators each field accepts.
var (
	Fields      = []string{FieldPageURL, FieldReferrer, FieldQueryParam, FieldVisitor}
	URLOps      = []string{OpIs, OpIsNot, OpContains, OpStartsWith, OpEndsWith}
	QueryOps    = []string{OpEquals, OpContains, OpExists}
	VisitorOps  = []string{OpKnown, OpUnknown}
	fieldOps    = map[string][]string{FieldPageURL: URLOps, FieldReferrer: URLOps, FieldQueryParam: QueryOps, FieldVisitor: VisitorOps}
	urlValueMsg = "must be a full URL like https://example.com/pricing or a path like /pricing"
)

// Targeting says on which pages a flow shows (CHAT-3): it matches when any group matches (every
// rule of the group holds) and no exclusion group does. No groups means every page.
type Targeting struct {
	Groups     []Group `json:"groups"`
	Exclusions []Group `json:"exclusions"`
}

// Group is rules that must all hold.
type Group struct {
	Rules []Rule `json:"rules"`
}

// Rule is one condition. Name is the query parameter's name (query_param only).
//
// URL values are compared on normalised URLs: scheme and host case-insensitive, default port,
// fragment and user info dropped, the path percent-decoded and a trailing slash ignored. The
// value's form picks what it is compared with: a value with a scheme the whole URL, a value
// starting with "/" the path and query, any other value (contains, starts_with, ends_with only)
// the URL without its scheme for starts_with ("www.example.com/blog") and the whole URL
// otherwise. So "is /pricing" is the path /pricing on any host without a query string, and a
// value ending in "/", or a full URL without a path, stops at a path segment: "starts_with
// /blog/" matches /blog and /blog/post but not /blogging, "starts_with https://example.com"
// not https://example.com.evil.test.
type Rule struct {
	Field    string `json:"field"`
	Operator string `json:"operator"`
	Name     string `json:"name,omitempty"`
	Value    string `json:"value,omitempty"`
}

// Page is what the widget reports about where a visitor is.
type Page struct {
	URL      string
	Referrer string
	Known    bool // the visitor is an identified contact
	Mobile   bool
}

func (t *Targeting) validate(p *problems) {
	if t.Groups == nil {
		t.Groups = []Group{}
	}
	if t.Exclusions == nil {
		t.Exclusions = []Group{}
	}
	validateGroups(p, t.Groups, "targeting.groups")
	validateGroups(p, t.Exclusions, "targeting.exclusions")
}

func validateGroups(p *problems, groups []Group, field string) {
	if len(groups) > maxGroups {
		p.add(CodeInvalidTargetingRule, field, fmt.Sprintf("must have at most %d groups", maxGroups))
		return
	}
	for i := range groups {
		g := &groups[i]
		gf := fmt.Sprintf("%s[%d].rules", field, i)
		switch {
		case len(g.Rules) == 0:
			// An empty AND is true: as a group it would show the flow everywhere, as an exclusion
			// nowhere — never what an editor that left it empty meant.
			p.add(CodeInvalidTargetingRule, gf, "must have at least one rule")
		case len(g.Rules) > maxRules:
			p.add(CodeInvalidTargetingRule, gf, fmt.Sprintf("must have at most %d rules", maxRules))
		default:
			for j := range g.Rules {
				g.Rules[j].validate(p, fmt.Sprintf("%s[%d]", gf, j))
			}
		}
	}
}

func (r *Rule) validate(p *problems, field string) {
	r.Name = strings.TrimSpace(r.Name)
	r.Value = strings.TrimSpace(r.Value)
	ops, ok := fieldOps[r.Field]
	if !ok {
		p.add(CodeInvalidTargetingRule, field+".field", oneOf(Fields))
		return
	}
	if !slices.Contains(ops, r.Operator) {
		p.add(CodeInvalidTargetingRule, field+".operator", oneOf(ops))
		return
	}
	if r.Field != FieldQueryParam && r.Name != "" {
		p.add(CodeInvalidTargetingRule, field+".name", "is only for query_param rules")
	}
	switch r.Field {
	case FieldVisitor:
		if r.Value != "" {
			p.add(CodeInvalidTargetingRule, field+".value", "visitor rules have no value")
		}
	case FieldQueryParam:
		if r.Name == "" || len(r.Name) > maxParamName {
			p.add(CodeInvalidTargetingRule, field+".name", fmt.Sprintf("must be a query parameter name of 1 to %d characters", maxParamName))
		}
		switch {
		case r.Operator == OpExists && r.Value != "":
			p.add(CodeInvalidTargetingRule, field+".value", "exists takes no value")
		case r.Operator != OpExists && r.Value == "":
			p.add(CodeInvalidTargetingRule, field+".value", "must not be empty")
		case len(r.Value) > maxURL:
			p.add(CodeInvalidTargetingRule, field+".value", fmt.Sprintf("must be at most %d bytes", maxURL))
		}
	default:
		switch {
		case r.Value == "":
			p.add(CodeInvalidTargetingRule, field+".value", "must not be empty")
		case len(r.Value) > maxURL:
			p.add(CodeInvalidTargetingRule, field+".value", fmt.Sprintf("must be at most %d bytes", maxURL))
		case strings.Contains(r.Value, "#"):
			// Browsers do not send fragments anywhere and the widget drops them: a rule on one
			// could never match.
			p.add(CodeInvalidTargetingRule, field+".value", "must not contain a fragment (#…)")
		case (r.Operator == OpIs || r.Operator == OpIsNot) && !absoluteHTTP(r.Value) && !strings.HasPrefix(r.Value, "/"):
			p.add(CodeInvalidTargetingRule, field+".value", urlValueMsg)
		case strings.HasPrefix(r.Value, "//"):
			// A scheme-relative URL reads as a host to a browser and as a path here: refuse rather
			// than guess.
			p.add(CodeInvalidTargetingRule, field+".value", urlValueMsg)
		}
	}
}

// normURL is a URL in the forms rules compare against.
type normURL struct {
	full  string // https://example.com/blog?x=1 — no path at the root
	bare  string // example.com/blog?x=1
	path  string // /blog?x=1 — "/" at the root
	query url.Values
}

// normalisePage reads the URL the widget reported. Anything but an absolute URL (a broken or
// hostile client) is compared as its raw text, so it matches little and never panics.
func normalisePage(raw string) normURL {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return normURL{full: raw, bare: raw, path: raw}
	}
	scheme := strings.ToLower(u.Scheme)
	host := normHost(scheme, u.Host)
	path := strings.TrimRight(u.Path, "/")
	q := ""
	if u.RawQuery != "" {
		q = "?" + u.RawQuery
	}
	query, _ := url.ParseQuery(u.RawQuery) // keeps the pairs it could read
	return normURL{full: scheme + "://" + host + path + q, bare: host + path + q, path: orRoot(path) + q, query: query}
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// normHost lower-cases a host and drops the scheme's default port and a trailing dot: the same
// site however it was written.
func normHost(scheme, host string) string {
	host = strings.ToLower(host)
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	host = strings.TrimSuffix(host, ":")
	return strings.TrimSuffix(host, ".")
}

// Which part of a page URL a rule value is compared with.
const (
	formFull = iota
	formBare
	formPath
)

// ruleValue is a URL rule's value in the form it is compared in. segment is set when the value
// ends at a path boundary (a trailing slash, or a full URL without a path): a match must then end
// at the end of the URL, a "/" or a "?".
type ruleValue struct {
	form    int
	text    string
	segment bool
}

func normaliseValue(v string) ruleValue {
	v = strings.TrimSpace(v)
	v, _, _ = strings.Cut(v, "#")
	if absoluteHTTP(v) {
		if u, err := url.Parse(v); err == nil {
			return ruleValue{form: formFull, text: normalisePage(v).full,
				segment: u.RawQuery == "" && !u.ForceQuery && (u.Path == "" || strings.HasSuffix(u.Path, "/"))}
		}
	}
	p, q, hasQuery := strings.Cut(v, "?")
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	segment := !hasQuery && strings.HasSuffix(p, "/")
	p = strings.TrimRight(p, "/")
	if hasQuery {
		q = "?" + q
	}
	if strings.HasPrefix(v, "/") {
		if p == "" {
			// The root: every path starts with "/", so it is no boundary.
			return ruleValue{form: formPath, text: "/" + q}
		}
		return ruleValue{form: formPath, text: p + q, segment: segment}
	}
	return ruleValue{form: formBare, text: p + q, segment: segment}
}

// boundary reports whether a match of the value ending at i ends at a path segment of s.
func boundary(s string, i int) bool {
	return i == len(s) || s[i] == '/' || s[i] == '?'
}

func matchURL(op string, page normURL, value string) bool {
	v := normaliseValue(value)
	subject := page.full
	switch {
	case v.form == formPath:
		subject = page.path
	case v.form == formBare && op == OpStartsWith:
		subject = page.bare
		// The host of "www.Example.com/blog" is as case-insensitive as the page's.
		if i := strings.IndexAny(v.text, "/?"); i >= 0 {
			v.text = strings.ToLower(v.text[:i]) + v.text[i:]
		} else {
			v.text = strings.ToLower(v.text)
		}
	}
	switch op {
	case OpIs:
		return subject == v.text
	case OpIsNot:
		return subject != v.text
	case OpStartsWith:
		return strings.HasPrefix(subject, v.text) && (!v.segment || boundary(subject, len(v.text)))
	case OpEndsWith:
		return strings.HasSuffix(subject, v.text)
	case OpContains:
		if v.text == "" {
			return false
		}
		for i := 0; i+len(v.text) <= len(subject); {
			j := strings.Index(subject[i:], v.text)
			if j < 0 {
				return false
			}
			if end := i + j + len(v.text); !v.segment || boundary(subject, end) {
				return true
			}
			i += j + 1
		}
	}
	return false
}

// facts is a page normalised once for all the rules of all the flows.
type facts struct {
	url, referrer normURL
	known         bool
}

func (r *Rule) matches(f *facts) bool {
	switch r.Field {
	case FieldPageURL:
		return matchURL(r.Operator, f.url, r.Value)
	case FieldReferrer:
		return matchURL(r.Operator, f.referrer, r.Value)
	case FieldQueryParam:
		values, ok := f.url.query[r.Name]
		switch r.Operator {
		case OpExists:
			return ok
		case OpEquals:
			return slices.Contains(values, r.Value)
		case OpContains:
			return slices.ContainsFunc(values, func(s string) bool { return strings.Contains(s, r.Value) })
		}
	case FieldVisitor:
		switch r.Operator {
		case OpKnown:
			return f.known
		case OpUnknown:
			return !f.known
		}
	}
	return false
}

func anyGroup(groups []Group, f *facts) bool {
	for i := range groups {
		all := true
		for j := range groups[i].Rules {
			if !groups[i].Rules[j].matches(f) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (t *Targeting) match(f *facts) bool {
	if len(t.Groups) > 0 && !anyGroup(t.Groups, f) {
		return false
	}
	return !anyGroup(t.Exclusions, f)
}

func newFacts(p Page) *facts {
	return &facts{url: normalisePage(p.URL), referrer: normalisePage(p.Referrer), known: p.Known}
}

// Matches reports whether the targeting shows its flow on the page, for previews in the editor.
func (t *Targeting) Matches(p Page) bool { return t.match(newFacts(p)) }

// Pick returns the flow a page shows (CHAT-3), or nil: among the enabled flows whose targeting
// matches, the one with the lowest priority number, ties by lowest ID. A flow hidden on mobile
// does not match a mobile page, so a flow made for phones further down the list can take it.
// The flows must be validated; the result points into flows.
func Pick(flows []Flow, page Page) *Flow {
	f := newFacts(page)
	var best *Flow
	for i := range flows {
		fl := &flows[i]
		if !fl.Enabled || page.Mobile && fl.Display.HideOnMobile {
			continue
		}
		if best != nil && (fl.Priority > best.Priority || fl.Priority == best.Priority && fl.ID >= best.ID) {
			continue // cheaper than matching
		}
		if fl.Targeting.match(f) {
			best = fl
		}
	}
	return best
}
