package chat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
)

// TestHeading: the session answer carries the flow's heading (CHAT-2): up to three random faces
// of the named users and teams, the contact owner when the visitor's contact has one, or a
// custom name and avatar.
func TestHeading(t *testing.T) {
	f := newFixture(t)
	flows, err := f.chat.Chatflows(f.ctx, f.view.Channel.ID)
	if err != nil || len(flows) != 1 {
		t.Fatalf("flows %v %v", flows, err)
	}
	flow := flows[0]
	setHeading := func(h string) {
		t.Helper()
		body := fmt.Sprintf(`{"name":"Everywhere","enabled":true,"inbox_id":%d,"heading":%s}`, flow.InboxID, h)
		if _, err := f.chat.UpdateChatflow(f.ctx, f.agent, f.view.Channel.ID, flow.ID, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	type heading struct {
		Title  string `json:"title"`
		People []struct {
			Name      string `json:"name"`
			AvatarURL string `json:"avatar_url"`
		} `json:"people"`
	}
	headingOf := func(token string) (*heading, string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"page_url": site + "/", "token": token})
		req, _ := http.NewRequest("POST", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/session", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", site)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var raw struct {
			Token   string   `json:"token"`
			Heading *heading `json:"heading"`
		}
		if err := json.NewDecoder(res.Body).Decode(&raw); err != nil || res.StatusCode != 200 {
			t.Fatalf("session %d %v", res.StatusCode, err)
		}
		return raw.Heading, raw.Token
	}

	// Without a heading the widget keeps its own title.
	if h, _ := headingOf(""); h != nil {
		t.Fatalf("no heading set: %+v", h)
	}

	// Five people in a team and one named: three of them, whole first names, avatars made absolute.
	var team store.Team
	var users []*store.User
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error {
		team = store.Team{Name: "Support"}
		if err := tx.CreateTeam(f.ctx, &team); err != nil {
			return err
		}
		for i, name := range []string{"Bo Ek", "Cy Al", "Di Ro", "Ed Wu", "Fa Li"} {
			u := &store.User{Email: fmt.Sprintf("u%d@parley.example", i), Name: name, Role: "agent", Locale: "en", TimeZone: "UTC",
				AvatarURL: "/avatars/" + name[:2] + ".png"}
			if err := tx.CreateUser(f.ctx, u); err != nil {
				return err
			}
			users = append(users, u)
			if _, err := tx.SetTeamMember(f.ctx, store.TeamMember{TeamID: team.ID, UserID: u.ID}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	setHeading(fmt.Sprintf(`{"mode":"users_and_teams","user_ids":[%d],"team_ids":[%d]}`, f.agent.ID, team.ID))
	seen := map[string]bool{}
	for range 20 {
		h, _ := headingOf("")
		if h == nil || h.Title != "" || len(h.People) != 3 {
			t.Fatalf("users and teams: %+v", h)
		}
		for _, p := range h.People {
			seen[p.Name] = true
			if p.Name != "Ada" && p.AvatarURL != "https://parley.example/avatars/"+p.Name+".png" {
				t.Fatalf("avatar %+v", p)
			}
		}
	}
	// Random three of six: over twenty sessions everyone shows up (a chance of failing below 1e-3).
	if len(seen) != 6 {
		t.Errorf("faces seen over 20 sessions: %v", seen)
	}

	// A deactivated member is not a face.
	setHeading(fmt.Sprintf(`{"mode":"users_and_teams","user_ids":[%d,%d]}`, users[0].ID, users[1].ID))
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error {
		now := store.Now()
		users[1].DeactivatedAt = &now
		return tx.UpdateUser(f.ctx, users[1])
	}); err != nil {
		t.Fatal(err)
	}
	if h, _ := headingOf(""); h == nil || len(h.People) != 1 || h.People[0].Name != "Bo" {
		t.Fatalf("deactivated: %+v", h)
	}

	// Contact owner: a visitor without a conversation gets the fallback; once their contact has an
	// owner, the owner.
	setHeading(fmt.Sprintf(`{"mode":"contact_owner","user_ids":[%d]}`, users[2].ID))
	h, token := headingOf("")
	if h == nil || len(h.People) != 1 || h.People[0].Name != "Di" {
		t.Fatalf("contact owner fallback: %+v", h)
	}
	ws, _, err := f.dial(site, token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ready")
	send(t, ws, map[string]any{"type": "message", "client_id": "c-1", "text": "Hello"})
	ack := readUntil(t, ws, "ack")
	msg, _ := f.s.Message(f.ctx, ack.MessageID)
	conv, err := f.s.Conversation(f.ctx, msg.ConversationID, 0)
	if err != nil || conv.ContactID == nil {
		t.Fatalf("conversation %+v %v", conv, err)
	}
	contact, err := f.s.Contact(f.ctx, *conv.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	contact.OwnerID = &users[3].ID
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error { return tx.UpdateContact(f.ctx, contact) }); err != nil {
		t.Fatal(err)
	}
	if h, _ := headingOf(token); h == nil || len(h.People) != 1 || h.People[0].Name != "Ed" {
		t.Fatalf("contact owner: %+v", h)
	}

	// Custom: the flow's own name and avatar.
	setHeading(`{"mode":"custom","name":"Acme support","avatar_url":"https://acme.example/logo.png"}`)
	if h, _ := headingOf(""); h == nil || h.Title != "Acme support" ||
		!slices.ContainsFunc(h.People, func(p struct {
			Name      string `json:"name"`
			AvatarURL string `json:"avatar_url"`
		}) bool {
			return p.AvatarURL == "https://acme.example/logo.png"
		}) {
		t.Fatalf("custom: %+v", h)
	}
}
