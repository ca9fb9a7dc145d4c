package bot

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxAnswerLen bounds a text answer; a visitor pasting a novel into "What is your name?" is not
// answering it.
const maxAnswerLen = 1000

// Language returns the bot language for a locale tag: "sv-SE" → "sv". Languages other than
// sv, nb (and no, nn) and da are "en".
func Language(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	base, _, _ = strings.Cut(base, "_")
	switch base {
	case "sv", "da", "nb":
		return base
	case "no", "nn":
		return "nb"
	}
	return "en"
}

// ParseAnswer checks a visitor's answer to a question of kind and returns it normalised: an
// email address lower-cased, a phone number as "+" and digits, a number as a plain decimal
// ("1234.5"), a date as YYYY-MM-DD, a choice as the choice's value. lang (see Language) decides
// how ambiguous numbers and dates read.
func ParseAnswer(kind AnswerKind, choices []Choice, input, lang string) (string, bool) {
	s := strings.TrimSpace(input)
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxAnswerLen {
		return "", false
	}
	switch kind {
	case TextAnswer:
		return s, true
	case EmailAnswer:
		return parseEmail(s)
	case PhoneAnswer:
		return parsePhone(s)
	case NumberAnswer:
		return parseNumber(s, Language(lang))
	case DateAnswer:
		return parseDate(s, Language(lang))
	case ChoiceAnswer:
		return matchChoice(choices, s)
	}
	return "", false
}

// parseEmail accepts one bare address whose domain has a dot: "anna@localhost" is valid mail
// syntax but never what a website visitor means.
func parseEmail(s string) (string, bool) {
	if len(s) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.HasPrefix(domain, "[") {
		return "", false
	}
	return strings.ToLower(s), true
}

// parsePhone accepts digits with an optional leading "+", grouped by spaces, dashes or
// parentheses as people type them, with 7 to 15 digits (E.164's maximum). The result keeps the
// "+" and the digits; turning a national number into E.164 needs a country, which the caller has.
func parsePhone(s string) (string, bool) {
	var b strings.Builder
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			digits++
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	if digits < 7 || digits > 15 {
		return "", false
	}
	return b.String(), true
}

// groupSeparator is the thousands separator besides spaces that each language writes.
var groupSeparator = map[string]byte{"en": ',', "da": '.'}

// parseNumber reads a decimal as people type it: "1234.5", "1234,5" (a decimal comma is accepted
// in every language), "1 234,5", "1,234.5" or "1.234,5". A single separator followed by exactly
// three digits is ambiguous; it counts as the language's thousands separator (English ",",
// Danish ".") and as a decimal point otherwise. No exponents, NaN or infinities.
func parseNumber(s, lang string) (string, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"), strings.HasPrefix(s, "−"):
		neg = true
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	// Spaces (including the no-break spaces a locale's formatting inserts) only group digits.
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' || r == '\'' {
			return -1
		}
		return r
	}, s)
	if s == "" || len(s) > 40 {
		return "", false
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	var decimal, group byte
	switch {
	case lastDot >= 0 && lastComma >= 0:
		decimal, group = '.', ','
		if lastComma > lastDot {
			decimal, group = ',', '.'
		}
	case lastDot >= 0 || lastComma >= 0:
		sep := byte('.')
		if lastComma >= 0 {
			sep = ','
		}
		last := strings.LastIndexByte(s, sep)
		switch {
		case strings.Count(s, string(sep)) > 1:
			group = sep // "1,234,567": repeated, so grouping
		case len(s)-last-1 == 3 && last > 0 && groupSeparator[lang] == sep:
			group = sep // "1,234" in English
		default:
			decimal = sep
		}
	}
	intPart, frac := s, ""
	if decimal != 0 {
		at := strings.LastIndexByte(s, decimal)
		intPart, frac = s[:at], s[at+1:]
		if frac == "" || !allDigits(frac) {
			return "", false
		}
	}
	if group != 0 {
		if !validGrouping(intPart, group) {
			return "", false
		}
		intPart = strings.ReplaceAll(intPart, string(group), "")
	}
	if (intPart == "" && frac == "") || !allDigits(intPart) {
		return "", false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}

// validGrouping checks that group separators, if any, split the integer part into a leading
// group of 1–3 digits and then groups of exactly 3, so "12,34" is not read as 1234.
func validGrouping(s string, group byte) bool {
	if strings.IndexByte(s, group) < 0 {
		return true
	}
	parts := strings.Split(s, string(group))
	if len(parts[0]) < 1 || len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return true
}

// months maps month names and their first three letters in English, Swedish, Norwegian and
// Danish to month numbers. The languages agree wherever their spellings collide ("mars", "maj").
var months = func() map[string]time.Month {
	m := map[string]time.Month{}
	names := [][]string{
		{"january", "januari", "januar"}, {"february", "februari", "februar"}, {"march", "mars", "marts"},
		{"april"}, {"may", "maj", "mai"}, {"june", "juni"}, {"july", "juli"}, {"august", "augusti"},
		{"september"}, {"october", "oktober"}, {"november"}, {"december", "desember"},
	}
	for i, forms := range names {
		for _, f := range forms {
			m[f] = time.Month(i + 1)
			m[f[:3]] = time.Month(i + 1)
		}
	}
	m["sept"] = time.September
	return m
}()

// parseDate reads YYYY-MM-DD (also with "/" or "."), day-month-year with a month name in any of
// the four languages ("5 March 2024", "5. mars 2024", "March 5, 2024"), and numeric day and month:
// d.m.yyyy and d/m/yyyy in Swedish, Norwegian and Danish; in English m/d/yyyy, or d/m/yyyy when
// only that reading is a date. An English numeric date that reads both ways ("03/05/2024") is
// refused rather than guessed.
func parseDate(s, lang string) (string, bool) {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == ',' || r == '-' || r == '/' || r == '.'
	})
	if len(fields) != 3 {
		return "", false
	}
	num := func(f string, minLen, maxLen int) (int, bool) {
		if len(f) < minLen || len(f) > maxLen || !allDigits(f) {
			return 0, false
		}
		n, err := strconv.Atoi(f)
		return n, err == nil
	}
	var y, d int
	var m time.Month
	if year, ok := num(fields[0], 4, 4); ok {
		// Year first: only year-month-day is in use.
		mo, ok1 := num(fields[1], 1, 2)
		day, ok2 := num(fields[2], 1, 2)
		if !ok1 || !ok2 {
			return "", false
		}
		y, m, d = year, time.Month(mo), day
	} else {
		year, ok := num(fields[2], 4, 4)
		if !ok {
			return "", false
		}
		y = year
		a, b := fields[0], fields[1]
		if mo, ok := months[b]; ok { // "5 March 2024"
			day, ok := num(a, 1, 2)
			if !ok {
				return "", false
			}
			m, d = mo, day
		} else if mo, ok := months[a]; ok { // "March 5, 2024"
			day, ok := num(b, 1, 2)
			if !ok {
				return "", false
			}
			m, d = mo, day
		} else {
			first, ok1 := num(a, 1, 2)
			second, ok2 := num(b, 1, 2)
			if !ok1 || !ok2 {
				return "", false
			}
			sep := s[strings.IndexAny(s, "./-, ")] // the separator the visitor used first
			if lang != "en" {
				if sep != '.' && sep != '/' && sep != '-' {
					return "", false
				}
				d, m = first, time.Month(second)
			} else {
				if sep != '/' {
					return "", false // dotted numeric dates are not an English form
				}
				us, eu := validDate(y, time.Month(first), second), validDate(y, time.Month(second), first)
				switch {
				case us && eu && first != second:
					return "", false // ambiguous
				case us:
					m, d = time.Month(first), second
				case eu:
					d, m = first, time.Month(second)
				default:
					return "", false
				}
			}
		}
	}
	if !validDate(y, m, d) {
		return "", false
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), true
}

func validDate(y int, m time.Month, d int) bool {
	if y < 1000 || m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && t.Month() == m && t.Day() == d
}

// matchChoice finds the choice a visitor meant: its value exactly (what a quick reply sends),
// its label ignoring case, or its position counted from 1 ("2").
func matchChoice(choices []Choice, s string) (string, bool) {
	for _, c := range choices {
		if c.value() == s {
			return c.value(), true
		}
	}
	for _, c := range choices {
		if strings.EqualFold(strings.TrimSpace(c.Label), s) {
			return c.value(), true
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(choices) && allDigits(s) {
		return choices[n-1].value(), true
	}
	return "", false
}
