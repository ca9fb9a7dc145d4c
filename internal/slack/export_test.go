package slack

// ChatKind exposes chatKind to the tests.
const ChatKind = chatKind
