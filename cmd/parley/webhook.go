package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel/custom"
)

// webhookListen is a developer's tool: a webhook target that verifies Parley's (HubSpot v3)
// signatures and prints each event, so an integration's side of the custom channels API can be
// tried before it is written. It answers 200 to a valid request and 401 to a forged one.
func webhookListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley webhook-listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen", "127.0.0.1:9000", "address to listen on")
	secret := fs.String("secret", "", "the custom channel's signing secret (required)")
	publicURL := fs.String("public-url", "", "the URL Parley posts to, if it differs from http://LISTEN (e.g. behind a proxy)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("--secret is required: it is returned when the custom channel is registered")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		uri := "http://" + r.Host + r.URL.RequestURI()
		if *publicURL != "" {
			uri = strings.TrimRight(*publicURL, "/") + r.URL.RequestURI()
		}
		err = custom.Verify(*secret, r.Method, uri, body, r.Header.Get(custom.HeaderTimestamp), r.Header.Get(custom.HeaderSignatureV3), time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "rejected %s %s: %v\n", r.Method, uri, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var event any
		if err := json.Unmarshal(body, &event); err != nil {
			event = string(body)
		}
		_ = enc.Encode(map[string]any{"verified": true, "path": r.URL.Path, "event": event})
		w.WriteHeader(http.StatusOK)
	})}
	fmt.Fprintf(stderr, "listening on http://%s, verifying signatures; Ctrl-C to stop\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
