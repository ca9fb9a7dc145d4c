package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKilledDuringIngestLosesNothing is SPEC REL-1: an integration publishes through the custom
// channels API and retries every message with the same integrationIdempotencyId until it is
// acknowledged, while the server is killed with SIGKILL and restarted again and again. In the end
// every message is stored exactly once.
func TestKilledDuringIngestLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills real server processes")
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			env := append([]string{"PARLEY_ADMIN_EMAIL=owner@example.com", "PARLEY_ADMIN_PASSWORD=correct-horse-battery"}, e.env...)
			srv := startServer(t, freeAddr(t), env)
			token := strings.TrimSpace(cli(t, env, "token", "create", "--email", "owner@example.com", "--name", "rel-1"))

			var inboxResp struct{ ID int64 }
			mustCall(t, "POST", srv.url("/api/v1/inboxes"), token, map[string]any{"name": "Support", "access": "everyone"}, &inboxResp)
			var channelResp struct{ ID string }
			mustCall(t, "POST", srv.url("/api/v1/custom-channels"), token, map[string]any{
				"name": "Crash test",
				"capabilities": map[string]any{
					"deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID"},
					"threadingModel":          "INTEGRATION_THREAD_ID",
					"allowOutgoingMessages":   true,
				},
				"webhookUrl": "http://127.0.0.1:9/unused",
			}, &channelResp)
			var accountResp struct{ ID string }
			mustCall(t, "POST", srv.url("/api/v1/custom-channels/"+channelResp.ID+"/channel-accounts"), token, map[string]any{
				"inboxId": fmt.Sprint(inboxResp.ID), "name": "Crash account", "authorized": true,
				"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "business-1"},
			}, &accountResp)

			const publishers, perPublisher, threads = 4, 100, 12
			var acked atomic.Int64
			var wg sync.WaitGroup
			for p := range publishers {
				wg.Go(func() {
					for i := range perPublisher {
						n := p*perPublisher + i
						thread := fmt.Sprintf("thread-%d", n%threads)
						body := map[string]any{
							"channelAccountId":         accountResp.ID,
							"messageDirection":         "INCOMING",
							"integrationThreadId":      thread,
							"integrationIdempotencyId": fmt.Sprintf("msg-%d", n),
							"text":                     fmt.Sprintf("message %d", n),
							"timestamp":                time.Now().UTC().Format(time.RFC3339Nano),
							"senders": []map[string]any{{"name": "Customer " + thread,
								"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "customer-" + thread}}},
							"recipients": []map[string]any{{"name": "Acme",
								"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "business-1"}}},
							"attachments": []any{},
						}
						// Retry until acknowledged, as an integration must; the server may be dead.
						for attempt := 0; ; attempt++ {
							status, err := call("POST", srv.url("/api/v1/custom-channels/"+channelResp.ID+"/messages"), token, body, nil)
							if err == nil && (status == 200 || status == 201) {
								acked.Add(1)
								break
							}
							if status >= 400 && status < 500 {
								t.Errorf("publish %d refused: %v", n, err)
								return
							}
							if attempt > 2000 {
								t.Errorf("publish %d never acknowledged: %v", n, err)
								return
							}
							time.Sleep(20 * time.Millisecond)
						}
					}
				})
			}

			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			kills := 0
		loop:
			for kills < 5 {
				select {
				case <-done:
					break loop
				case <-time.After(time.Duration(100+rand.IntN(250)) * time.Millisecond):
					srv.kill()
					kills++
					srv.start()
				}
			}
			<-done
			if kills == 0 {
				t.Fatal("the server was never killed: the test proved nothing")
			}
			if got := acked.Load(); got != publishers*perPublisher {
				t.Fatalf("acknowledged %d of %d", got, publishers*perPublisher)
			}

			// Count what was stored, through the API, after one more crash for good measure.
			srv.kill()
			srv.start()
			var convs struct {
				Data []struct{ ID int64 }
			}
			mustCall(t, "GET", srv.url("/api/v1/conversations?limit=200"), token, nil, &convs)
			if len(convs.Data) != threads {
				t.Errorf("conversations: got %d, want %d (one per thread)", len(convs.Data), threads)
			}
			seen := map[string]int{}
			for _, c := range convs.Data {
				var tl struct {
					Data []struct {
						Kind    string
						Message *struct{ Text string }
					}
				}
				mustCall(t, "GET", srv.url(fmt.Sprintf("/api/v1/conversations/%d/timeline", c.ID)), token, nil, &tl)
				for _, item := range tl.Data {
					if item.Kind == "message" && item.Message != nil {
						seen[item.Message.Text]++
					}
				}
			}
			missing, dup := 0, 0
			for n := range publishers * perPublisher {
				switch seen[fmt.Sprintf("message %d", n)] {
				case 0:
					missing++
				case 1:
				default:
					dup++
				}
			}
			if missing != 0 || dup != 0 || len(seen) != publishers*perPublisher {
				t.Fatalf("after %d kills: %d missing, %d duplicated, %d distinct of %d", kills, missing, dup, len(seen), publishers*perPublisher)
			}
			t.Logf("%s: %d messages, %d SIGKILLs, none lost or duplicated", e.name, publishers*perPublisher, kills)
		})
	}
}
