package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/workspace"
)

func userCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: parley user create|reset-password …")
	}
	switch args[0] {
	case "create":
		fs, c, parse := flags("user create", stderr)
		email := fs.String("email", "", "email address (required)")
		name := fs.String("name", "", "display name (required)")
		role := fs.String("role", "agent", "owner, admin or agent")
		password := fs.String("password", "", "password (default: a generated one, printed)")
		jobTitle := fs.String("job-title", "", "job title")
		if err := parse(args[1:]); err != nil {
			return err
		}
		s, err := openStore(ctx, c)
		if err != nil {
			return err
		}
		defer s.Close()
		generated := orGenerated(password)
		ws := &workspace.Service{Store: s, Log: slog.New(slog.DiscardHandler)}
		u, err := ws.CreateUser(ctx, nil, workspace.NewUser{Email: *email, Name: *name, Role: *role, Password: *password, JobTitle: *jobTitle})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s %s (id %d)\n", u.Role, u.Email, u.ID)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", *password)
		}
		return nil
	case "reset-password":
		fs, c, parse := flags("user reset-password", stderr)
		email := fs.String("email", "", "email address (required)")
		password := fs.String("password", "", "new password (default: a generated one, printed)")
		if err := parse(args[1:]); err != nil {
			return err
		}
		s, err := openStore(ctx, c)
		if err != nil {
			return err
		}
		defer s.Close()
		generated := orGenerated(password)
		ws := &workspace.Service{Store: s, Log: slog.New(slog.DiscardHandler)}
		if err := ws.ResetPassword(ctx, *email, *password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s reset\n", *email)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", *password)
		}
		return nil
	}
	return fmt.Errorf("unknown user command %q (want create or reset-password)", args[0])
}

func tokenCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: parley token create --email E --name N")
	}
	fs, c, parse := flags("token create", stderr)
	email := fs.String("email", "", "email of the user the token acts as (required)")
	name := fs.String("name", "", "a name for the token, e.g. the integration using it (required)")
	if err := parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		return errors.New("--email and --name are required")
	}
	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.UserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("user %s: %w", *email, err)
	}
	ws := &workspace.Service{Store: s, Log: slog.New(slog.DiscardHandler)}
	token, _, err := ws.CreateToken(ctx, nil, u.ID, *name)
	if err != nil {
		return err
	}
	// Only the token goes to stdout, so scripts can capture it: TOKEN=$(parley token create …).
	fmt.Fprintln(stdout, token)
	return nil
}

// orGenerated fills an empty password with a random one and reports whether it did, so the
// command can print it.
func orGenerated(password *string) bool {
	if *password != "" {
		return false
	}
	*password = auth.NewToken("")
	return true
}
