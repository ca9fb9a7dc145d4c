package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/view"
)

// maxBody is the default request body limit; routes that take uploads set their own.
const maxBody = 1 << 20

// writeJSON renders v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing useful to do
}

// problemBody is RFC 9457 problem details plus Parley's stable code and field errors.
type problemBody struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Code   string            `json:"code"`
	Detail string            `json:"detail,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
}

// writeError renders err as problem+json. Errors that are not *problem.Error are logged and hidden.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p, ok := problem.As(err)
	if !ok {
		switch {
		case errors.Is(err, store.ErrNotFound):
			p = problem.NotFoundf("not_found", "the resource does not exist")
		case errors.Is(err, store.ErrConflict):
			p = problem.Conflictf("conflict", "the change clashes with existing data")
		default:
			log.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
			p = problem.New(problem.Internal, "internal", "something went wrong; the error was logged")
		}
	}
	status := p.Status()
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problemBody{
		Type:   "https://parley.dev/problems/" + p.Code,
		Title:  http.StatusText(status),
		Status: status,
		Code:   p.Code,
		Detail: p.Detail,
		Fields: p.Fields,
	})
}

// decode reads a JSON body into v, refusing unknown fields, trailing data and oversized bodies.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem.New(problem.Invalid, "unsupported_media_type", "send JSON with Content-Type: application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem.Invalidf("invalid_json", "the body must hold a single JSON value")
	}
	return nil
}

func jsonProblem(err error) error {
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return problem.New(problem.TooLarge, "body_too_large", "the body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return problem.Invalidf("invalid_json", "the body is empty")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Invalidf("invalid_json", "the body is not valid JSON: %v", err)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return problem.Field("invalid_field", field, fmt.Sprintf("must be %s", typeErr.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Field("unknown_field", name, "is not a known field")
	}
	return problem.Invalidf("invalid_json", "the body could not be read: %v", err)
}

// pathID parses a numeric path parameter. A malformed id is reported as not found: to the
// caller it names nothing.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFoundf("not_found", "no %s %q", name, r.PathValue(name))
	}
	return id, nil
}

// list is the envelope of every list response.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](data []T, next string) list[T] {
	if data == nil {
		data = []T{}
	}
	l := list[T]{Data: data}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

// limit reads ?limit= (default 50, at most 200).
func limit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, problem.Field("invalid_limit", "limit", "must be a whole number from 1 to 200")
	}
	return n, nil
}

// encodeCursor and decodeCursor keep cursors opaque to clients.
func encodeCursor(s string) string {
	if s == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(r *http.Request) (string, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", problem.Field("invalid_cursor", "cursor", "is not a cursor this API returned")
	}
	return string(b), nil
}

// timeJSON renders a unix-millisecond time as RFC 3339 in UTC with milliseconds, the one time
// format of the API (e.g. "2025-01-02T15:04:05.000Z").
func timeJSON(ms int64) string { return view.Time(ms) }

// timePtrJSON is timeJSON for optional times: nil stays null.
func timePtrJSON(ms *int64) *string {
	if ms == nil {
		return nil
	}
	s := timeJSON(*ms)
	return &s
}
