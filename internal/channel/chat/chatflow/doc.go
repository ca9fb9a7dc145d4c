// Package chatflow is the pure logic of live chat's chatflows (SPEC CHAT-3…6, CHAT-10, CHAT-12):
// the Flow model a chat channel stores as JSON, its validation and defaults, targeting (which
// flow a page shows — Pick), availability (open or away at a moment — Available) and the display
// decision the widget endpoint returns (Decide).
//
// Everything here is a function of its arguments: no clock, no database, no HTTP. Callers pass
// the time, whether anyone on the team is available and the visitor's page, so later parts (the
// widget endpoint, the visitor WebSocket, the bot engine) build on it and tests need no fixtures.
// The package must not write SQL (package store does), render HTTP (package web/api does) or
// know about conversations; it returns problem.Error values with stable codes.
package chatflow
