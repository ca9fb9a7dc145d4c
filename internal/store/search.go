package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Full-text search keeps one search_index row per searchable text of a conversation (its
// subject, each message, each comment). SQLite uses an FTS5 table; PostgreSQL a tsvector column
// with a GIN index. User input never reaches either query language unquoted: SearchQuery builds
// the engine's query from plain words, so operators, quotes and parentheses typed by a user are
// searched for as text (or dropped) and can never make the query fail.

// IndexText adds text to the conversation's search index. Empty text is skipped.
func (tx *Tx) IndexText(ctx context.Context, conversationID int64, text string) error {
	text = cleanSearchText(text)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if len(text) > maxIndexedText {
		// PostgreSQL refuses a tsvector over 1 MB, which would make the message impossible
		// to store (and block the mailbox it came from); what people search for is near the
		// start of a message anyway.
		text = strings.ToValidUTF8(text[:maxIndexedText], "")
	}
	if tx.deferSearch {
		tx.searchTexts = append(tx.searchTexts, searchText{conversationID, text})
		return nil
	}
	return tx.indexText(ctx, conversationID, text)
}

// maxIndexedText bounds the text one message adds to the search index.
const maxIndexedText = 200 << 10

// searchText is a row IndexText holds back in a group transaction.
type searchText struct {
	conversationID int64
	text           string
}

// flushSearch writes the rows IndexText held back. A group transaction (groupcommit.go) runs
// each request in a savepoint, and SQLite's FTS5 writes its pending terms out as a new index
// segment at every SAVEPOINT and RELEASE once the table has changed in the transaction: written
// per request, the index grew by a tiny segment per message and merged them again — a fifth of
// the serial write time of an ingest run. Written after the last savepoint, one group is one
// segment. Nothing in a transaction reads the index it writes, so the delay is invisible.
func (tx *Tx) flushSearch(ctx context.Context) error {
	texts := tx.searchTexts
	tx.searchTexts = nil
	for _, t := range texts {
		if err := tx.indexText(ctx, t.conversationID, t.text); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) indexText(ctx context.Context, conversationID int64, text string) error {
	q := `INSERT INTO search_index (body, conversation_id) VALUES ($1, $2)`
	if tx.dialect == SQLite {
		// The rowid says whose text it is (see searchRowidShift): the next number in the
		// conversation's range.
		q = `INSERT INTO search_index (rowid, body, conversation_id) VALUES (
			(SELECT COALESCE(MAX(rowid) + 1, $2 * ` + searchRowidBase + `) FROM search_index
				WHERE rowid >= $2 * ` + searchRowidBase + ` AND rowid < ($2 + 1) * ` + searchRowidBase + `), $1, $2)`
	}
	if _, err := tx.exec(ctx, q, text, conversationID); err != nil {
		return fmt.Errorf("index text: %w", err)
	}
	return nil
}

// On SQLite a search_index rowid is conversation id × 2^searchRowidShift + the text's number in
// the conversation, so "does conversation c have a matching text" is an FTS query bounded to c's
// rowid range — cheap, where filtering the index's conversation_id column would read every match.
const (
	searchRowidShift = 24
	searchRowidBase  = "16777216" // 1 << searchRowidShift, as SQL
)

// SearchRowid is the SQLite search_index rowid of a conversation's n-th text (bulk loads).
func SearchRowid(conversationID int64, n int) int64 {
	return conversationID<<searchRowidShift + int64(n)
}

// cleanSearchText makes text storable and queryable on both engines: PostgreSQL refuses NUL and
// invalid UTF-8 in text.
func cleanSearchText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// searchWords splits a user's query into words (whitespace-separated), keeping only words that
// hold a letter or digit — the rest can match no token on either engine.
func searchWords(q string) []string {
	var words []string
	for _, w := range strings.Fields(cleanSearchText(q)) {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			words = append(words, w)
		}
		if len(words) == 16 { // a longer query only costs time
			break
		}
	}
	return words
}

// SearchQuery turns a user's words into the engine's full-text query: every word must match,
// each as a quoted phrase (so the engine's tokenizer splits "ada@example.com" the same way it
// split the indexed text), and the last word also matches as a prefix (search as you type).
// It returns "" when no word can match anything.
func SearchQuery(d Dialect, q string) string {
	words := searchWords(q)
	if len(words) == 0 {
		return ""
	}
	parts := make([]string, len(words))
	for i, w := range words {
		switch d {
		case Postgres:
			// A quoted lexeme in to_tsquery: quotes are doubled and backslashes (its escape
			// character) removed. Characters such as & | ! ( ) : * inside quotes are text.
			w = strings.ReplaceAll(w, `\`, " ")
			parts[i] = "'" + strings.ReplaceAll(w, "'", "''") + "'"
			if i == len(words)-1 {
				parts[i] += ":*"
			}
		default:
			// An FTS5 string: double quotes are doubled; everything else inside is text.
			parts[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
			if i == len(words)-1 {
				parts[i] += "*"
			}
		}
	}
	if d == Postgres {
		return strings.Join(parts, " & ")
	}
	return strings.Join(parts, " ")
}

// How a search finds its page without reading every match. A conversation's texts are indexed
// as they arrive, and conversation ids grow with time, so the newest matches by conversation id
// are, nearly always, among the most recently active. A search reads the newest matches of the
// full-text index (searchWindow of them, a cheap ordered read on either engine), notes the
// oldest conversation id among them (the bound), and lists the conversations from the bound on
// that match, in list order. Then it checks that no conversation beyond the bound ranks above
// the page's last row (an old conversation that came back to life, say): if one does, it moves
// the bound to it and lists once more. A word with few matches has them all in the window, and
// the list reads them all. When filters leave too few matches in the window, the window grows.
// The result is exactly what listing every match would give. Measured on 10,000,000 messages in
// BENCHMARKS.md.

// searchWindow is how many of the newest matching texts a search reads first; it grows eightfold
// while filters leave too few of them for a page.
var searchWindow = 400

// contactProbe is how many contact names and identities containing the search text a search
// collects; past that (a mail domain, say) it checks each listed conversation's contact instead.
var contactProbe = 2000

// searchConversations lists up to limit+1 conversations matching f and the search text q.
func (s *Store) searchConversations(ctx context.Context, f ConversationFilter, q string, limit int) ([]Conversation, error) {
	contact, err := s.contactMatch(ctx, q)
	if err != nil {
		return nil, err
	}
	fts := SearchQuery(s.dialect, q)
	if fts == "" {
		if contact == nil {
			return nil, nil
		}
		return s.listConversations(ctx, f, limit, func(a *qargs) []string { return []string{contact.condition(a)} })
	}
	for window := searchWindow; ; window *= 8 {
		ids, complete, err := s.searchWindowIDs(ctx, fts, window, f.Oldest)
		if err != nil {
			return nil, err
		}
		list, err := s.listConversations(ctx, f, limit, s.idsCondition(ids, contact))
		if err != nil || complete {
			return list, err
		}
		if len(list) <= limit {
			continue // too few in the window for a full page: widen it
		}
		bound := ids[len(ids)-1]
		outer, err := s.outermostRanking(ctx, f, list[len(list)-1], bound)
		if err != nil || outer == 0 {
			return list, err
		}
		return s.listConversations(ctx, f, limit, s.searchConditions(fts, contact, outer, f.Oldest))
	}
}

// searchWindowIDs reads the window newest (for the oldest-first list: oldest) matches of the
// full-text query, by conversation id, and returns their conversations' ids from the newest
// (oldest) on: every matching conversation from the last of them on. complete says the window
// held every match.
func (s *Store) searchWindowIDs(ctx context.Context, fts string, window int, oldest bool) (ids []int64, complete bool, err error) {
	order, agg, cmp, span := "DESC", "MAX", ">=", " - "
	if oldest {
		order, agg, cmp, span = "ASC", "MIN", "<=", " + "
	}
	if s.dialect == Postgres {
		// PostgreSQL cannot read a GIN index in order, and cannot tell how often a prefix
		// occurs: it would walk the conversation id index backwards, checking every text, until it
		// found the window — through all ten million when the word is rare. So it first looks at
		// the newest conversations only, where a common word fills the window at once, and
		// otherwise reads all the matches through the GIN index ("+ 0" keeps the id index out)
		// and sorts them: there are few, or the newest conversations would have held enough.
		ids, n, err := s.searchIDs(ctx, `SELECT si.conversation_id FROM search_index si
			WHERE si.tsv @@ to_tsquery('simple', CAST($1 AS text))
			AND si.conversation_id `+cmp+` (SELECT `+agg+`(id) FROM conversations)`+span+strconv.Itoa(searchRecent)+`
			ORDER BY si.conversation_id `+order+` LIMIT `+strconv.Itoa(window), fts)
		if err != nil || n == window {
			return ids, false, err
		}
		ids, n, err = s.searchIDs(ctx, `SELECT si.conversation_id FROM search_index si
			WHERE si.tsv @@ to_tsquery('simple', CAST($1 AS text))
			ORDER BY si.conversation_id + 0 `+order+` LIMIT `+strconv.Itoa(window), fts)
		return ids, n < window, err
	}
	ids, n, err := s.searchIDs(ctx, `SELECT rowid >> `+strconv.Itoa(searchRowidShift)+` FROM search_index
		WHERE search_index MATCH $1 ORDER BY rowid `+order+` LIMIT `+strconv.Itoa(window), fts)
	return ids, n < window, err
}

// searchRecent is how many of the newest conversations a PostgreSQL search looks at first.
const searchRecent = 20000

// searchIDs runs a query of conversation ids in order and returns them without repeats, and how
// many rows there were.
func (s *Store) searchIDs(ctx context.Context, q string, args ...any) (ids []int64, n int, err error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	ids = []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, 0, fmt.Errorf("search: %w", err)
		}
		n++
		if len(ids) == 0 || ids[len(ids)-1] != id {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search: %w", err)
	}
	return ids, n, nil
}

// idsCondition matches the conversations whose ids are listed, or the contact.
func (s *Store) idsCondition(ids []int64, contact *contactMatch) func(a *qargs) []string {
	return func(a *qargs) []string {
		var list string
		if s.dialect == Postgres {
			list = `SELECT unnest(CAST(` + a.add(ids) + ` AS bigint[]))`
		} else {
			b, _ := json.Marshal(ids) // a slice of integers always marshals
			list = `SELECT value FROM json_each(` + a.add(string(b)) + `)`
		}
		switch {
		case contact == nil:
			return []string{`c.id IN (` + list + `)`}
		case contact.set != nil:
			return []string{`c.id IN (` + list + ` UNION SELECT cc.id FROM conversations cc WHERE cc.contact_id IN (` + contact.set(a) + `))`}
		default:
			return []string{`(c.id IN (` + list + `) OR ` + contact.perRow(a) + `)`}
		}
	}
}

// searchConditions matches the full-text query among conversations from bound on, or the
// contact. Matches are one list of conversation ids where possible: an OR of two subqueries
// would make both engines walk every conversation when matches are few.
func (s *Store) searchConditions(fts string, contact *contactMatch, bound int64, oldest bool) func(a *qargs) []string {
	return func(a *qargs) []string {
		p := a.add(fts)
		var ids string
		if s.dialect == Postgres {
			cmp := ">="
			if oldest {
				cmp = "<="
			}
			cond := `si.tsv @@ to_tsquery('simple', ` + p + `) AND si.conversation_id ` + cmp + ` ` + a.add(bound)
			ids = `SELECT si.conversation_id FROM search_index si WHERE ` + cond
		} else {
			cond := `search_index MATCH ` + p
			if oldest {
				cond += ` AND rowid < (` + a.add(bound) + ` + 1) * ` + searchRowidBase
			} else {
				cond += ` AND rowid >= ` + a.add(bound) + ` * ` + searchRowidBase
			}
			ids = `SELECT rowid >> ` + strconv.Itoa(searchRowidShift) + ` FROM search_index WHERE ` + cond
		}
		switch {
		case contact == nil:
			return []string{`c.id IN (` + ids + `)`}
		case contact.set != nil:
			return []string{`c.id IN (` + ids + ` UNION SELECT cc.id FROM conversations cc WHERE cc.contact_id IN (` + contact.set(a) + `))`}
		default:
			return []string{`(c.id IN (` + ids + `) OR ` + contact.perRow(a) + `)`}
		}
	}
}

// outermostRanking returns the farthest conversation id beyond bound that matches f's filters
// and ranks at or above last in the list's order, or 0 if there is none.
func (s *Store) outermostRanking(ctx context.Context, f ConversationFilter, last Conversation, bound int64) (int64, error) {
	var a qargs
	where := filterConditions(f, &a, "")
	agg, beyond, above := "MIN", "<", ">"
	if f.Oldest {
		agg, beyond, above = "MAX", ">", "<"
	}
	at, id := a.add(last.LastActivityAt), a.add(last.ID)
	where = append(where, `c.id `+beyond+` `+a.add(bound),
		`(c.last_activity_at `+above+` `+at+` OR (c.last_activity_at = `+at+` AND c.id `+above+`= `+id+`))`)
	// "c.id + 0": a plain MIN(c.id) tempts both planners to walk the primary key from its end,
	// through every old conversation; the rows ranking above last are few and the activity
	// index finds them.
	var outer int64
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(`+agg+`(c.id + 0), 0) FROM conversations c WHERE `+whereSQL(where), a.args...).Scan(&outer)
	if err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	return outer, nil
}

// contactMatch matches conversations by their contact's name, email, phone or other identity
// containing the search text: through a set of contact ids (set) when few contacts match, or by
// checking each conversation's contact (perRow) when many do (a mail domain, say).
type contactMatch struct {
	set    func(a *qargs) string // a SELECT of contact ids
	perRow func(a *qargs) string // a condition on c
}

func (m *contactMatch) condition(a *qargs) string {
	if m.set != nil {
		return `c.contact_id IN (` + m.set(a) + `)`
	}
	return m.perRow(a)
}

// contactMatch matches contacts containing q (case-insensitively, from three characters), or
// returns nil for a shorter q.
func (s *Store) contactMatch(ctx context.Context, q string) (*contactMatch, error) {
	pattern := strings.TrimSpace(q)
	if utf8.RuneCountInString(pattern) < 3 {
		return nil, nil
	}
	like := likePattern(pattern)
	var probe string
	var arg any
	m := &contactMatch{}
	if s.dialect == Postgres {
		// Trigram indexes (migration 00004) find the rows.
		probe, arg = `SELECT 1 FROM contacts WHERE lower(name) LIKE CAST($1 AS text) ESCAPE '\'
			UNION ALL SELECT 1 FROM contact_identities WHERE lower(value) LIKE CAST($1 AS text) ESCAPE '\'`, like
		m.set = func(a *qargs) string {
			p := a.add(like)
			return `SELECT sct.id FROM contacts sct WHERE lower(sct.name) LIKE ` + p + ` ESCAPE '\'
				UNION SELECT sci.contact_id FROM contact_identities sci WHERE lower(sci.value) LIKE ` + p + ` ESCAPE '\'`
		}
	} else {
		// A phrase of the trigram index matches its text as a substring, whatever it holds.
		phrase := `"` + strings.ReplaceAll(pattern, `"`, `""`) + `"`
		probe, arg = `SELECT 1 FROM contact_search WHERE contact_search MATCH $1`, phrase
		m.set = func(a *qargs) string {
			return `SELECT contact_id FROM contact_search WHERE contact_search MATCH ` + a.add(phrase)
		}
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+probe+` LIMIT `+strconv.Itoa(contactProbe)+`) probe`, arg).Scan(&n); err != nil {
		return nil, fmt.Errorf("search contacts: %w", err)
	}
	if n < contactProbe {
		return m, nil
	}
	return &contactMatch{perRow: func(a *qargs) string {
		p := a.add(like)
		return `(EXISTS (SELECT 1 FROM contacts sct WHERE sct.id = c.contact_id AND lower(sct.name) LIKE ` + p + ` ESCAPE '\')
			OR EXISTS (SELECT 1 FROM contact_identities sci WHERE sci.contact_id = c.contact_id AND lower(sci.value) LIKE ` + p + ` ESCAPE '\'))`
	}}, nil
}
