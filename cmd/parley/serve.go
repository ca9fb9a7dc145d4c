package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/chat/widget"
	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/config"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/jobs"
	"github.com/parley-inbox/parley/internal/mail"
	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/web/api"
	"github.com/parley-inbox/parley/internal/web/setup"
	"github.com/parley-inbox/parley/internal/web/throttle"
	"github.com/parley-inbox/parley/internal/web/ui"
	"github.com/parley-inbox/parley/internal/workspace"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, c, parse := flags("serve", stderr)
	if err := parse(args); err != nil {
		return err
	}
	started := time.Now()
	c.Print(stderr)
	log := newLogger(c, stderr)

	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()

	ws := &workspace.Service{Store: s, Log: log}
	if err := firstOwner(ctx, c, ws, stderr); err != nil {
		return err
	}

	client := &http.Client{Timeout: 15 * time.Second}
	customSender := custom.NewSender(s, client, "1")
	svc := &inbox.Service{Store: s, Log: log, Senders: map[string]channel.Sender{
		custom.Kind: customSender,
	}}
	// Attachments live under the data directory; nodes sharing one PostgreSQL must share it too.
	fileStore := files.New(s, filepath.Join(c.DataDir, "files"), c.BaseURL)
	fileStore.Log = log
	emailSvc, err := newEmail(ctx, c, s, svc, fileStore, log)
	if err != nil {
		return err
	}
	svc.Senders[email.Kind] = emailSvc
	// Live chat: the visitors' hub of this node and the chat channel, which delivers agents'
	// replies to visitors (its Sender) and serves the widget endpoints.
	chatHub := chat.NewHub(log, chat.HubOptions{})
	chatSvc := &chat.Service{Store: s, Inbox: svc, Hub: chatHub, Log: log, BaseURL: c.BaseURL, Files: fileStore}
	svc.Senders[chat.Kind] = chatSvc
	runner := &jobs.Runner{Store: s, Workers: c.Workers, Log: log, Handlers: map[string]jobs.Handler{
		inbox.DeliverJob:       svc.Deliver,
		custom.AccountEventJob: customSender.HandleAccountEvent,
	}}
	svc.WakeJobs = runner.Wake
	emailSvc.WakeJobs = runner.Wake
	// Live chat hands off by chatflow, emails replies and transcripts, and hears of closes.
	chatSvc.Email, chatSvc.WakeJobs = emailSvc, runner.Wake
	runner.Handlers[chat.EmailReplyJob] = chatSvc.EmailReply
	runner.Handlers[chat.TranscriptJob] = chatSvc.Transcript
	runner.Handlers[chat.JobBotWebhook] = chatSvc.HandleBotWebhook // a bot's webhook step (CHAT-9)
	svc.RoutingRuleFor, svc.Closed = chatSvc.RoutingRuleFor, chatSvc.Closed

	rt := newRealtimeNode(s, log)
	// Live chat and the agents' realtime tell each other of typing and reading.
	rt.hub.OnReplyTyping = chatSvc.AgentTyping
	rt.hub.OnConversationRead = chatSvc.AgentRead
	chatSvc.VisitorTyping = rt.hub.RelayVisitorTyping
	// A visitor may be connected to another node than the one that sends to them.
	rt.hub.OnMessage = chatSvc.MessageEvent
	chatSvc.UseBus(rt.bus)
	// Slack mirror of live chats (CHAT-13): it tails the event log for chat messages and posts
	// them by job; Slack's events come back on /slack/events and become replies by job.
	slackSvc := &slack.Service{Store: s, Inbox: svc, Log: log, BaseURL: c.BaseURL, Client: &slack.Client{}, WakeJobs: runner.Wake}
	runner.Handlers[slack.MirrorJob] = slackSvc.HandleMirrorJob
	runner.Handlers[slack.EventJob] = slackSvc.HandleEventJob
	signIns := &throttle.SignIns{} // one sign-in budget for the API and the web app
	apiServer := &api.Server{Store: s, Inbox: svc, Log: log, BaseURL: c.BaseURL, Realtime: rt.hub, SignIns: signIns}
	apiServer.Email = emailSvc
	apiServer.Chat = chatSvc
	apiServer.Slack = slackSvc
	app := &ui.Server{Store: s, Inbox: svc, Workspace: ws, Log: log, BaseURL: c.BaseURL, Files: fileStore, SignIns: signIns}
	app.Email = emailSvc
	app.Slack = slackSvc
	app.Chat = chatSvc
	if c.SMTPURL != "" {
		// Password reset and invitation mail; without it the sign-in page offers no reset.
		m, err := mail.NewSMTP(c.SMTPURL, c.MailFrom)
		if err != nil {
			return err
		}
		app.Mail = m
	}
	// The widget's script and its visitor endpoints, both under /widget/.
	widgetMux := http.NewServeMux()
	widgetMux.Handle("/widget/v1/", chatSvc.Handler())
	widgetMux.Handle("GET /widget/{file}", widget.Handler(chatSvc.WidgetExists))
	// The widget's frame on Parley's origin, which holds the visitor token (widget/frame.go).
	widgetMux.Handle("GET /widget/v1/{public_id}/frame", widget.Frame(chatSvc.FrameOrigins))
	widgetMux.Handle("GET /widget/frame.js", widget.FrameScript())
	handler := routes(apiServer.Handler(), setup.Handler(ws, c.BaseURL, log), app.Handler(), widgetMux, slackSvc.EventsHandler(), s)

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	// Jobs keep running until the HTTP server has drained, so replies accepted by in-flight
	// requests are still delivered by this process if it can.
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if c.Workers > 0 {
		wg.Go(func() {
			if err := runner.Run(jobsCtx); err != nil {
				log.Error("job runner stopped", "err", err)
			}
		})
	}
	wg.Go(func() { housekeeping(jobsCtx, s, fileStore, log) })
	// Mail is received until the HTTP server has drained, and the receiver's own shutdown lets
	// every delivery in flight commit and answer 250 first.
	stopEmail, err := startEmail(jobsCtx, &wg, c, emailSvc, log)
	if err != nil {
		stopJobs()
		wg.Wait()
		return err
	}
	rt.start(&wg, c.EventRetention)
	// Visitors' sockets are told to go away at the start of a shutdown, like agents'.
	chatCtx, stopChat := context.WithCancel(context.Background())
	defer stopChat()
	wg.Go(func() { chatHub.Run(chatCtx) })
	// Working hours start without anyone acting: offer waiting conversations again every half
	// minute (ROUTE-4). Every other way of making room offers them at once.
	wg.Go(func() { svc.RunRouting(jobsCtx, 30*time.Second) })
	// Chat messages of inboxes with a Slack mirror are enqueued for Slack as they are logged.
	wg.Go(func() { slackSvc.RunMirror(jobsCtx) })
	// Chats idle past their chatflow's auto_close_minutes are closed (CHAT-10).
	wg.Go(func() { chatSvc.RunAutoClose(jobsCtx, time.Minute) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("parley is running", "url", c.BaseURL, "listen", ln.Addr().String(), "database", string(s.Dialect()),
		"startup_ms", time.Since(started).Milliseconds())

	select {
	case err := <-serveErr:
		_ = stopEmail(context.Background())
		rt.stop()
		stopChat()
		stopJobs()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and jobs", "grace", c.ShutdownGrace)
	rt.stop()
	stopChat()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), c.ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := stopEmail(shutdownCtx); serr != nil {
		log.Warn("smtp receiver shutdown", "err", serr)
	}
	stopJobs()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutdownCtx.Done():
		log.Warn("shutdown grace ran out with jobs still running; they will be retried after their lease")
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// firstOwner creates the owner from PARLEY_ADMIN_EMAIL/PASSWORD on an empty database, or prints
// a one-time setup link when there is no user at all.
func firstOwner(ctx context.Context, c *config.Config, ws *workspace.Service, stderr io.Writer) error {
	if c.AdminEmail != "" {
		created, err := ws.EnsureOwner(ctx, c.AdminEmail, c.AdminPassword)
		if err != nil {
			return fmt.Errorf("create first owner: %w", err)
		}
		if created {
			fmt.Fprintf(stderr, "\nCreated the owner %s. Open %s and sign in with that email and password,\n"+
				"or create an API token: parley token create --email %s --name my-laptop\n\n", c.AdminEmail, c.BaseURL, c.AdminEmail)
		}
		return nil
	}
	token, needed, err := ws.SetupToken(ctx)
	if err != nil {
		return fmt.Errorf("setup token: %w", err)
	}
	if needed {
		fmt.Fprintf(stderr, "\nNo users yet. Create the owner account by opening this one-time link:\n\n    %s/setup?token=%s\n\n", c.BaseURL, token)
	}
	return nil
}

// routes composes the process's top-level handler: the API, the HubSpot-compatible custom
// channels paths, the chat widget's script and visitor endpoints, Slack's events, the first-run setup page, the health
// checks and, for everything else, the web app.
func routes(apiHandler, setupHandler, appHandler, widgetHandler, slackEvents http.Handler, s *store.Store) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", apiHandler)
	// Called from customers' sites: outside the API's cross-origin protection, with CORS for
	// each chat channel's allowed origins.
	mux.Handle("/widget/", widgetHandler)
	// Slack's Events API: signed with each inbox's Slack signing secret, not a session.
	mux.Handle("POST "+slack.EventsPath, slackEvents)
	mux.Handle("/conversations/v3/", apiHandler)
	mux.Handle("/setup", setupHandler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unavailable")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/", appHandler)
	return mux
}

// housekeeping removes expired sign-in sessions and unreachable files once an hour. Several
// nodes doing it at once is harmless: both deletes are idempotent.
func housekeeping(ctx context.Context, s *store.Store, fs *files.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.DeleteExpiredSessions(ctx, store.Now()); err != nil && ctx.Err() == nil {
			log.Warn("delete expired sessions", "err", err)
		} else if n > 0 {
			log.Info("deleted expired sessions", "count", n)
		}
		if n, err := fs.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("sweep files", "err", err)
		} else if n > 0 {
			log.Info("deleted unreachable files", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
