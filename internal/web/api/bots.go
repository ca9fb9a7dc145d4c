package api

import (
	"encoding/json"
	"net/http"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/chat/bot"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

// botRoutes: chat bots (SPEC CHAT-9), their versions, and taking a conversation over from one.
// Every agent may read bots (the Bots view names them); admins edit them.
func botRoutes() []Route {
	const big = 2 << 20 // a definition may be up to 1 MiB of JSON, sent inside an object
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/bots", Access: Signed, Handle: listBots},
		{Method: http.MethodPost, Pattern: "/api/v1/bots", Access: Admin, MaxBody: big, Handle: createBot},
		{Method: http.MethodGet, Pattern: "/api/v1/bots/{id}", Access: Signed, Handle: getBot},
		{Method: http.MethodPut, Pattern: "/api/v1/bots/{id}", Access: Admin, MaxBody: big, Handle: saveBot},
		{Method: http.MethodDelete, Pattern: "/api/v1/bots/{id}", Access: Admin, Handle: deleteBot},
		{Method: http.MethodGet, Pattern: "/api/v1/bots/{id}/versions", Access: Signed, Handle: listBotVersions},
		{Method: http.MethodGet, Pattern: "/api/v1/bots/{id}/versions/{version}", Access: Signed, Handle: getBotVersion},
		{Method: http.MethodPost, Pattern: "/api/v1/conversations/{id}/bot/takeover", Access: Signed, Scope: ScopeConversation,
			Handle: takeOverFromBot},
	}
}

type botJSON struct {
	ID               int64           `json:"id"`
	Name             string          `json:"name"`
	Version          int64           `json:"version"`
	CreatedAt        string          `json:"created_at"`
	UpdatedAt        string          `json:"updated_at"`
	VersionCreatedAt string          `json:"version_created_at"`
	VersionCreatedBy *int64          `json:"version_created_by"`
	Definition       *bot.Definition `json:"definition"`
	Warnings         []bot.Warning   `json:"warnings"`
	// WebhookSecret verifies the bot's webhook calls; admins only.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

func toBotJSON(v *chat.BotView, admin bool) botJSON {
	out := botJSON{ID: v.ID, Name: v.Name, Version: v.Version, CreatedAt: timeJSON(v.CreatedAt),
		UpdatedAt: timeJSON(v.UpdatedAt), VersionCreatedAt: timeJSON(v.VersionCreatedAt),
		VersionCreatedBy: v.VersionCreatedBy, Definition: v.Definition, Warnings: v.Warnings}
	if out.Warnings == nil {
		out.Warnings = []bot.Warning{}
	}
	if admin {
		out.WebhookSecret = v.WebhookSecret
	}
	return out
}

type botList struct {
	Data []botJSON `json:"data"`
}

type botVersionJSON struct {
	Version   int64  `json:"version"`
	CreatedAt string `json:"created_at"`
	CreatedBy *int64 `json:"created_by"`
}

type botVersionList struct {
	Data []botVersionJSON `json:"data"`
}

// botBody is the JSON of POST and PUT /api/v1/bots[/{id}]: on PUT, a definition saves a new
// version and base_version, when set, refuses to overwrite a version saved since it was read.
type botBody struct {
	Name        *string         `json:"name"`
	Definition  json.RawMessage `json:"definition"`
	BaseVersion int64           `json:"base_version"`
}

func (b botBody) input() chat.BotInput {
	return chat.BotInput{Name: b.Name, Definition: b.Definition, BaseVersion: b.BaseVersion}
}

// chatWithID is the path's {id} (a bot's) and the chat service.
func (s *Server) chatWithID(r *http.Request) (*chat.Service, int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	c, err := s.chat()
	return c, id, err
}

func isAdmin(u *store.User) bool { return u != nil && u.IsAdmin() }

func listBots(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, err := s.chat()
	if err != nil {
		return err
	}
	list, err := c.ListBots(r.Context())
	if err != nil {
		return err
	}
	out := botList{Data: make([]botJSON, 0, len(list))}
	for _, v := range list {
		out.Data = append(out.Data, toBotJSON(v, isAdmin(caller(r))))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func createBot(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body botBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := s.chat()
	if err != nil {
		return err
	}
	v, err := c.CreateBot(r.Context(), caller(r), body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toBotJSON(v, true))
	return nil
}

func getBot(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	v, err := c.Bot(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBotJSON(v, isAdmin(caller(r))))
	return nil
}

func saveBot(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body botBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := s.chat()
	if err != nil {
		return err
	}
	v, err := c.SaveBot(r.Context(), caller(r), id, body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBotJSON(v, true))
	return nil
}

func deleteBot(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	if err := c.DeleteBot(r.Context(), caller(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func listBotVersions(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	list, err := c.BotVersions(r.Context(), id)
	if err != nil {
		return err
	}
	out := botVersionList{Data: make([]botVersionJSON, 0, len(list))}
	for _, v := range list {
		out.Data = append(out.Data, botVersionJSON{Version: v.Version, CreatedAt: timeJSON(v.CreatedAt), CreatedBy: v.CreatedBy})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func getBotVersion(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	version, err := pathID(r, "version")
	if err != nil {
		return err
	}
	v, err := c.BotVersion(r.Context(), id, version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBotJSON(v, isAdmin(caller(r))))
	return nil
}

// takeOverFromBot ends the bot's run of a conversation the caller may see and assigns it to
// them (CHAT-9).
func takeOverFromBot(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	actor := caller(r)
	if _, err := s.Inbox.Conversation(r.Context(), actor, id); err != nil {
		return err
	}
	c, err := s.chat()
	if err != nil {
		return err
	}
	if err := c.TakeOver(r.Context(), actor, id); err != nil {
		return err
	}
	conv, err := s.Inbox.Update(r.Context(), actor, id, inbox.Patch{AssigneeID: &actor.ID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConversationJSON(conv))
	return nil
}
