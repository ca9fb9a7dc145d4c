// Package bot is the engine of rule-based chat bots (SPEC CHAT-9): the bot definition a chatflow
// stores as versioned JSON, its validation, and a pure interpreter that walks a conversation
// through it one visitor answer at a time.
//
// A Definition is a list of steps with stable ids; each step is one action (send a message, ask a
// question, branch, set a property, submit a ticket, hand off, call a webhook, send a meeting link,
// end) and goes to its Next step unless the action says otherwise. Decode reads the JSON and
// Validate rejects what could not run: unknown step ids, bad fields, and cycles that would loop
// without ever asking the visitor anything. Steps nobody can reach are only Warnings, because a
// visual editor passes through such states while an admin rewires a flow and they never run.
//
// The interpreter is Start and Step. It does nothing itself: it returns the new State and a list
// of Outputs (say this, wait for an answer, set this contact property, call this webhook, hand
// off, end…) for the caller to carry out. Effects whose result the bot needs — a webhook's
// response, whether a team is available — make the bot wait; the caller feeds the result back
// as the next Input. State is plain JSON the caller stores with the conversation.
//
// A conversation keeps the definition version it started with: State records it, and the
// caller is expected to load that version (definitions are immutable once published). If
// Step is given another version anyway, the bot ends gracefully with EndDefinitionChanged
// rather than guess where the visitor is in a flow that has changed under them.
//
// The package owns no storage, HTTP, routing or widget code and must not grow any: the chat
// channel persists State, signs and sends webhooks, applies contact properties, creates tickets
// and hands conversations to routing. Errors are problem.Error values with field paths such as
// "steps[2].ask_question.choices[0].label".
package bot
