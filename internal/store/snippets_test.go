package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestSnippetsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var ana, bo *store.User
		err := s.InTx(ctx, func(tx *store.Tx) error {
			ana = &store.User{Email: "ana@example.com", Name: "Ana", Role: "agent"}
			bo = &store.User{Email: "bo@example.com", Name: "Bo", Role: "agent"}
			if err := tx.CreateUser(ctx, ana); err != nil {
				return err
			}
			return tx.CreateUser(ctx, bo)
		})
		if err != nil {
			t.Fatal(err)
		}
		insert := func(owner *int64, shortcut, title string) (*store.Snippet, error) {
			sn := &store.Snippet{OwnerUserID: owner, Shortcut: shortcut, Title: title, Body: "body of " + shortcut}
			return sn, s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertSnippet(ctx, sn) })
		}
		shared, err := insert(nil, "hello", "Greeting")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := insert(nil, "hello", "again"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("shared shortcuts are unique: %v", err)
		}
		anas, err := insert(&ana.ID, "hello", "Ana's greeting")
		if err != nil {
			t.Fatalf("a personal snippet may share a shared shortcut: %v", err)
		}
		if _, err := insert(&ana.ID, "hello", "twice"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("personal shortcuts are unique per owner: %v", err)
		}
		if _, err := insert(&bo.ID, "hello", "Bo's"); err != nil {
			t.Fatal(err)
		}
		if _, err := insert(&ana.ID, "bye", "Farewell"); err != nil {
			t.Fatal(err)
		}

		list, err := s.Snippets(ctx, store.SnippetFilter{UserID: ana.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sn := range list {
			got = append(got, fmt.Sprintf("%s/%v", sn.Shortcut, sn.Shared()))
		}
		if fmt.Sprint(got) != "[bye/false hello/false hello/true]" {
			t.Fatalf("ana's snippets: %v", got)
		}
		if list, _ := s.Snippets(ctx, store.SnippetFilter{UserID: ana.ID, Query: "greet", Limit: 1}); len(list) != 1 || list[0].ID != anas.ID {
			t.Fatalf("title query with limit: %+v", list)
		}

		got1, err := s.Snippet(ctx, shared.ID)
		if err != nil || got1.Title != "Greeting" || !got1.Shared() || got1.CreatedAt == 0 {
			t.Fatalf("get: %+v %v", got1, err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			sn, err := tx.Snippet(ctx, anas.ID)
			if err != nil {
				return err
			}
			sn.Shortcut, sn.Body = "bye", "clash"
			return tx.UpdateSnippet(ctx, sn)
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("update onto a taken shortcut: %v", err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			anas.Shortcut, anas.Body = "hi", "new body"
			if err := tx.UpdateSnippet(ctx, anas); err != nil {
				return err
			}
			return tx.DeleteSnippet(ctx, shared.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSnippet(ctx, shared.ID) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if sn, _ := s.Snippet(ctx, anas.ID); sn.Shortcut != "hi" || sn.Body != "new body" {
			t.Fatalf("updated: %+v", sn)
		}
		if _, err := s.Snippet(ctx, shared.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
	})
}

func TestPeopleByIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var users []*store.User
		var team *store.Team
		var in *store.Inbox
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for i := range 3 {
				u := &store.User{Email: fmt.Sprintf("u%d@example.com", i), Name: fmt.Sprintf("User %d", i), Role: "agent"}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				users = append(users, u)
			}
			team = &store.Team{Name: "Billing"}
			if err := tx.CreateTeam(ctx, team); err != nil {
				return err
			}
			in = &store.Inbox{Name: "Support", Access: "everyone"}
			return tx.CreateInbox(ctx, in)
		})
		if err != nil {
			t.Fatal(err)
		}
		ids := []int64{users[2].ID, users[0].ID, users[2].ID, 0, 999999}
		for i := 0; i < 600; i++ { // more than one chunk
			ids = append(ids, users[1].ID)
		}
		byID, err := s.UsersByIDs(ctx, ids)
		if err != nil || len(byID) != 3 || byID[users[2].ID].Name != "User 2" {
			t.Fatalf("users: %v %v", byID, err)
		}
		teams, err := s.TeamsByIDs(ctx, []int64{team.ID, 12345})
		if err != nil || len(teams) != 1 || teams[team.ID].Name != "Billing" {
			t.Fatalf("teams: %v %v", teams, err)
		}
		names, err := s.InboxNames(ctx, []int64{in.ID})
		if err != nil || names[in.ID] != "Support" {
			t.Fatalf("inboxes: %v %v", names, err)
		}
		if named, err := s.TeamsNamed(ctx, "BILL", 0); err != nil || len(named) != 1 {
			t.Fatalf("teams named: %v %v", named, err)
		}
		if m, err := s.MentionableUsers(ctx, in.ID, "user 1", 0); err != nil || len(m) != 1 || m[0].ID != users[1].ID {
			t.Fatalf("mentionable: %v %v", m, err)
		}
	})
}
