// Package inbox is Parley's domain: receiving messages, replying, commenting, assigning,
// closing, snoozing, moving, marking spam, contacts and the timeline. Each operation is one store
// transaction that also writes the timeline events and enqueues the jobs it causes. It decides
// who may see and do what (inbox membership); it knows nothing of HTTP or of any channel's
// protocol — channels reach it through Inbound and are reached through channel.Sender.
package inbox
