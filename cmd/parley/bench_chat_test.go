package main

import (
	"strings"
	"testing"
)

// TestBenchChat: the chat scenario measures the widget as sent (gzipped, under PERF-7's 30 KB)
// and every visitor message reaches the agent's socket, on each engine.
func TestBenchChat(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			out := runBench(t, append([]string{"chat", "--messages", "60", "--visitors", "6", "--rate", "5"}, benchDB(t, e)...)...)
			widget := figure(t, out, "widget script, as sent to a browser accepting gzip")
			if n := number(t, widget); n <= 1000 || n > 30*1024 || !strings.HasSuffix(widget, "gzip)") {
				t.Errorf("widget: %s", widget)
			}
			if got := figure(t, out, "received by the agent"); got != "60 of 60" {
				t.Errorf("received: %s\n%s", got, out)
			}
			if lat := figure(t, out, "visitor → agent (message.created on /api/v1/realtime)"); !strings.Contains(lat, "(n=60)") {
				t.Errorf("latency: %s", lat)
			}
		})
	}
}
