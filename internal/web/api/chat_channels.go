package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/problem"
)

// chatChannelRoutes: a chat channel's chatflows (SPEC CHAT-3…6). Chat channels themselves are
// created, read and changed through /api/v1/channels (kind chat); visitors talk to the widget
// endpoints under /widget/v1/, served by package chat.
func chatChannelRoutes() []Route {
	const small = 64 << 10
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/channels/{channel_id}/chatflows", Access: Signed, Scope: ScopeChannel, Handle: listChatflows},
		{Method: http.MethodPost, Pattern: "/api/v1/channels/{channel_id}/chatflows", Access: Admin, MaxBody: small, Handle: createChatflow},
		{Method: http.MethodPut, Pattern: "/api/v1/channels/{channel_id}/chatflows/{flow_id}", Access: Admin, MaxBody: small, Handle: updateChatflow},
		{Method: http.MethodDelete, Pattern: "/api/v1/channels/{channel_id}/chatflows/{flow_id}", Access: Admin, Handle: deleteChatflow},
	}
}

func (s *Server) chat() (*chat.Service, error) {
	if s.Chat == nil {
		return nil, problem.New(problem.Unavailable, "chat_unavailable", "live chat is not configured on this server")
	}
	return s.Chat, nil
}

// chatChannelBody is the JSON of POST /api/v1/channels with kind chat, and of PATCH on a chat
// channel: absent fields keep their value on PATCH.
type chatChannelBody struct {
	Kind           string           `json:"kind"`
	InboxID        int64            `json:"inbox_id"`
	Name           *string          `json:"name"`
	AllowedOrigins *[]string        `json:"allowed_origins"`
	Appearance     *chat.Appearance `json:"appearance"`
}

func (b chatChannelBody) input() chat.ChannelInput {
	return chat.ChannelInput{InboxID: b.InboxID, Name: b.Name, AllowedOrigins: b.AllowedOrigins, Appearance: b.Appearance}
}

type chatChannelJSON struct {
	channelJSON
	EmbedSnippet string    `json:"embed_snippet"`
	Chat         *chatJSON `json:"chat"`
}

type chatJSON struct {
	PublicID       string          `json:"public_id"`
	AllowedOrigins []string        `json:"allowed_origins"`
	Appearance     chat.Appearance `json:"appearance"`
	// IdentitySecret signs identity verification; admins only.
	IdentitySecret string `json:"identity_secret,omitempty"`
}

func toChatChannelJSON(v *chat.View, admin bool) chatChannelJSON {
	c := v.Channel
	origins := v.Settings.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	out := chatChannelJSON{channelJSON: toChannelJSON(c), EmbedSnippet: v.EmbedSnippet,
		Chat: &chatJSON{PublicID: v.Chat.PublicID, AllowedOrigins: origins, Appearance: v.Settings.Appearance}}
	if admin {
		out.Chat.IdentitySecret = v.Chat.IdentitySecret
	}
	return out
}

// bodyKind reads a create request's body, returns its "kind" and puts the body back for decode.
func bodyKind(r *http.Request) (string, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return "", jsonProblem(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var peek struct {
		Kind string `json:"kind"`
	}
	_ = json.Unmarshal(raw, &peek) // decode reports a broken body properly
	return peek.Kind, nil
}

func createChatChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body chatChannelBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := s.chat()
	if err != nil {
		return err
	}
	v, err := c.CreateChannel(r.Context(), caller(r), body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toChatChannelJSON(v, true))
	return nil
}

func patchChatChannel(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
	var body chatChannelBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Kind != "" && body.Kind != chat.Kind {
		return problem.Field("unsupported_channel_kind", "kind", "a channel's kind cannot change")
	}
	c, err := s.chat()
	if err != nil {
		return err
	}
	v, err := c.UpdateChannel(r.Context(), caller(r), id, body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toChatChannelJSON(v, true))
	return nil
}

// chatChannelOf checks the caller may see the channel (its inbox) and that it is a chat channel.
func (s *Server) chatChannelOf(r *http.Request) (*chat.Service, int64, error) {
	id, err := pathID(r, "channel_id")
	if err != nil {
		return nil, 0, err
	}
	if _, err := s.Inbox.Channel(r.Context(), caller(r), id); err != nil {
		return nil, 0, err
	}
	c, err := s.chat()
	return c, id, err
}

// chatflowOf is chatChannelOf and the path's {flow_id}.
func (s *Server) chatflowOf(r *http.Request) (*chat.Service, int64, int64, error) {
	c, id, err := s.chatChannelOf(r)
	if err != nil {
		return nil, 0, 0, err
	}
	flowID, err := pathID(r, "flow_id")
	return c, id, flowID, err
}

type chatflowList struct {
	Data []chatflow.Flow `json:"data"`
}

func listChatflows(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatChannelOf(r)
	if err != nil {
		return err
	}
	flows, err := c.Chatflows(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, chatflowList{Data: flows})
	return nil
}

// readFlow reads a chatflow body; chatflow.Parse checks it strictly.
func readFlow(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonProblem(err)
	}
	return raw, nil
}

func createChatflow(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatChannelOf(r)
	if err != nil {
		return err
	}
	raw, err := readFlow(r)
	if err != nil {
		return err
	}
	f, err := c.CreateChatflow(r.Context(), caller(r), id, raw)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func updateChatflow(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, flowID, err := s.chatflowOf(r)
	if err != nil {
		return err
	}
	raw, err := readFlow(r)
	if err != nil {
		return err
	}
	f, err := c.UpdateChatflow(r.Context(), caller(r), id, flowID, raw)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func deleteChatflow(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, flowID, err := s.chatflowOf(r)
	if err != nil {
		return err
	}
	if err := c.DeleteChatflow(r.Context(), caller(r), id, flowID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
