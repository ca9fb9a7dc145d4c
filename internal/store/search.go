package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"
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
	if _, err := tx.exec(ctx, `INSERT INTO search_index (body, conversation_id) VALUES ($1, $2)`, text, conversationID); err != nil {
		return fmt.Errorf("index text: %w", err)
	}
	return nil
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

// searchClause is the WHERE condition for a conversation search: full-text over the index, or a
// case-insensitive substring of the contact's name, emails and phones.
func (s *Store) searchClause(a *qargs, q string) string {
	var conds []string
	if fts := SearchQuery(s.dialect, q); fts != "" {
		p := a.add(fts)
		if s.dialect == Postgres {
			conds = append(conds, `c.id IN (SELECT si.conversation_id FROM search_index si WHERE si.tsv @@ to_tsquery('simple', `+p+`))`)
		} else {
			conds = append(conds, `c.id IN (SELECT CAST(conversation_id AS INTEGER) FROM search_index WHERE search_index MATCH `+p+`)`)
		}
	}
	like := a.add(likePattern(strings.TrimSpace(q)))
	conds = append(conds, `c.contact_id IN (SELECT sct.id FROM contacts sct WHERE lower(sct.name) LIKE `+like+` ESCAPE '\'
		UNION SELECT sci.contact_id FROM contact_identities sci WHERE lower(sci.value) LIKE `+like+` ESCAPE '\')`)
	return "(" + strings.Join(conds, " OR ") + ")"
}
