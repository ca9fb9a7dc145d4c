package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIURL is the base of Slack's Web API.
const DefaultAPIURL = "https://slack.com/api"

// Client calls the few Slack Web API methods the mirror needs: chat.postMessage,
// chat.postEphemeral, users.info and auth.test. Every call carries the bot token as a Bearer
// token. Slack answers HTTP 200 with {"ok":false,"error":"…"} when a call fails, and 429 with
// Retry-After when rate limited.
type Client struct {
	// BaseURL is the Web API's base (DefaultAPIURL when empty); tests point it at a local server.
	BaseURL string
	// HTTP is the client used (a 15-second-timeout client when nil).
	HTTP *http.Client
	// MaxWait bounds how long one call waits for a Retry-After before trying once more; a longer
	// Retry-After is returned as an *Error for the job's own backoff (default 20 seconds).
	MaxWait time.Duration
}

var defaultHTTP = &http.Client{Timeout: 15 * time.Second}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultAPIURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return defaultHTTP
	}
	return c.HTTP
}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait <= 0 {
		return 20 * time.Second
	}
	return c.MaxWait
}

// Error is a failed Web API call: Slack's error code ("channel_not_found", "ratelimited"…) or
// the HTTP status when Slack did not answer with one.
type Error struct {
	Method string
	Code   string
	Status int
	// RetryAfter is what Slack asked to wait (429 responses).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("slack %s: %s", e.Method, e.Code)
	}
	return fmt.Sprintf("slack %s: HTTP %d", e.Method, e.Status)
}

// permanentCodes are Slack errors that retrying cannot fix: the app's token, the channel or the
// message is wrong until an admin or the message changes.
var permanentCodes = map[string]bool{
	"not_authed": true, "invalid_auth": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "not_allowed_token_type": true,
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "msg_too_long": true,
	"no_text": true, "invalid_blocks": true, "invalid_arguments": true, "invalid_arg_name": true,
	"user_not_found": true, "user_not_in_channel": true, "restricted_action": true, "team_access_not_granted": true,
	"ekm_access_denied": true, "invalid_json": true, "json_not_object": true, "invalid_charset": true,
	"thread_reply_not_found": false, // the parent may not have replicated yet; retry
}

// Permanent tells the job runner whether retrying is useless (see jobs.Handler).
func (e *Error) Permanent() bool {
	if e.Code != "" {
		return permanentCodes[e.Code]
	}
	// 4xx other than 408 and 429 are the request's fault; 5xx and network trouble pass.
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// IsCode reports whether err is a Slack error with the code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// maxResponse bounds a Web API answer read.
const maxResponse = 1 << 20

// call POSTs a JSON body to a Web API method and decodes the answer into out.
func (c *Client) call(ctx context.Context, token, method string, body any, out interface{ result() *apiResult }) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.retrying(ctx, method, out, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+"/"+method, bytes.NewReader(payload))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	})
}

// form calls a method with form-encoded arguments (methods that do not read JSON bodies).
func (c *Client) form(ctx context.Context, token, method string, args url.Values, out interface{ result() *apiResult }) error {
	body := args.Encode()
	return c.retrying(ctx, method, out, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+"/"+method, strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	})
}

// retrying sends the request, and once more after Slack's Retry-After when a 429 asks for a
// short wait: Slack's rate limits are per minute, so a brief pause usually gets through.
func (c *Client) retrying(ctx context.Context, method string, out interface{ result() *apiResult }, newReq func() (*http.Request, error)) error {
	for attempt := 0; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return err
		}
		err = c.do(req, method, out)
		var se *Error
		if attempt == 0 && errors.As(err, &se) && se.Status == http.StatusTooManyRequests && se.RetryAfter <= c.maxWait() {
			t := time.NewTimer(se.RetryAfter)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
			continue
		}
		return err
	}
}

// do sends one request and reads Slack's answer.
func (c *Client) do(req *http.Request, method string, out interface{ result() *apiResult }) error {
	res, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("slack %s: %w", method, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("slack %s: read answer: %w", method, err)
	}
	if res.StatusCode == http.StatusTooManyRequests {
		wait := time.Second
		if n, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("Retry-After"))); err == nil && n >= 0 {
			wait = time.Duration(n) * time.Second
		}
		return &Error{Method: method, Code: "ratelimited", Status: res.StatusCode, RetryAfter: wait}
	}
	if res.StatusCode != http.StatusOK {
		return &Error{Method: method, Status: res.StatusCode}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("slack %s: answer is not JSON: %w", method, err)
	}
	if r := out.result(); !r.OK {
		code := r.Error
		if code == "" {
			code = "unknown_error"
		}
		return &Error{Method: method, Code: code, Status: res.StatusCode}
	}
	return nil
}

type apiResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func (r *apiResult) result() *apiResult { return r }

// Message is a chat.postMessage request.
type Message struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
	// ThreadTS makes the message a reply in the thread of that parent message.
	ThreadTS string          `json:"thread_ts,omitempty"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	// UnfurlLinks false keeps a visitor's pasted link from unfurling into the thread.
	UnfurlLinks *bool `json:"unfurl_links,omitempty"`
	UnfurlMedia *bool `json:"unfurl_media,omitempty"`
}

// PostMessage posts a message and returns its ts, which names it in the channel.
func (c *Client) PostMessage(ctx context.Context, token string, m Message) (string, error) {
	var out struct {
		apiResult
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	}
	if err := c.call(ctx, token, "chat.postMessage", m, &out); err != nil {
		return "", err
	}
	if out.TS == "" {
		return "", &Error{Method: "chat.postMessage", Code: "no_ts_in_answer", Status: http.StatusOK}
	}
	return out.TS, nil
}

// PostEphemeral shows a message to one user of a channel only (in a thread when threadTS is set).
func (c *Client) PostEphemeral(ctx context.Context, token, channel, user, threadTS, text string) error {
	body := map[string]string{"channel": channel, "user": user, "text": text}
	if threadTS != "" {
		body["thread_ts"] = threadTS
	}
	var out apiResult
	return c.call(ctx, token, "chat.postEphemeral", body, &out)
}

// User is what users.info tells of a Slack user.
type User struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	IsBot   bool   `json:"is_bot"`
	Deleted bool   `json:"deleted"`
	Profile struct {
		Email       string `json:"email"`
		RealName    string `json:"real_name"`
		DisplayName string `json:"display_name"`
	} `json:"profile"`
}

// UsersInfo looks a user up; the email is there only with the users:read.email scope.
func (c *Client) UsersInfo(ctx context.Context, token, user string) (*User, error) {
	// users.info reads form or query arguments, not JSON bodies.
	var out struct {
		apiResult
		User User `json:"user"`
	}
	if err := c.form(ctx, token, "users.info", url.Values{"user": {user}}, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// Identity is what auth.test says of a token.
type Identity struct {
	URL    string `json:"url"`
	Team   string `json:"team"`
	TeamID string `json:"team_id"`
	User   string `json:"user"`
	UserID string `json:"user_id"`
	BotID  string `json:"bot_id"`
}

// AuthTest checks a token and says whose it is.
func (c *Client) AuthTest(ctx context.Context, token string) (*Identity, error) {
	var out struct {
		apiResult
		Identity
	}
	if err := c.call(ctx, token, "auth.test", struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out.Identity, nil
}
