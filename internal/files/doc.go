// Package files keeps the files Parley stores: attachments agents upload in the composer and,
// later, files channels receive with inbound messages (Put). It owns the content on disk and
// the rules for accepting, attaching, serving and forgetting files; the metadata rows live in
// the database through package store (table files).
//
// # Storage
//
// Content lives under Dir (normally <data dir>/files) at <first two characters of the id>/<id>.
// The id is 26 random base32 characters (130 bits), lower-case so a case-insensitive file
// system cannot mix two up, and it is also the file's public id in URLs. An upload is written
// to Dir/tmp, synced, then renamed into place and only then recorded in the database, so a
// row never points at half-written content; a crash leaves at most a stray temporary file or
// an unrecorded blob, which Sweep removes.
//
// # Accepting
//
// Names are cleaned by SanitizeName (last path element only, no control or bidi characters,
// no characters Windows refuses, at most 200 bytes with the extension kept). The content type
// is decided from the declared type and the first 512 bytes (http.DetectContentType): a file
// declared as a type browsers show inline (PNG, JPEG, GIF, WebP, PDF) must really be one, or
// it is refused; otherwise the declared type is kept, and a missing or generic one is replaced
// by the sniffed type. Files above MaxSize (25 MiB unless set) are refused while reading, so
// nothing large is ever written in full.
//
// # Attaching
//
// An uploaded file is the uploader's alone until a message carries it: Attach records the
// conversation, after which whoever may see the conversation may download it. A file attached
// to one conversation cannot be attached to another. Sweep deletes files never attached after
// a day, and files whose conversation was deleted.
//
// # Serving and signed links
//
// Browsers download at /files/{id}/{name} with their session (the web app checks access).
// Channels and webhook consumers fetch outbound attachments without a session, so the URL in
// a message's attachment JSON is signed: /files/{id}/{name}?expires=<unix seconds>&sig=<mac>,
// where mac is base64url(HMAC-SHA256(key, "parley-file\n" + id + "\n" + expires)). The key is
// 32 random bytes generated once per installation and kept in the settings table, so every
// node signs and checks alike. Links live LinkTTL (7 days unless set): long enough for a
// channel's delivery retries, short enough that a link copied out of a webhook log stops
// working. A sender that delivers later than that signs a fresh URL with SignedURL. The name
// in the path is only for the browser's "save as"; the id alone selects the file, and the
// signature covers the id and expiry, so a tampered id, expiry or signature is refused.
// Whatever the route, Serve sends content with X-Content-Type-Options: nosniff, as an
// attachment unless its type is one browsers show inline safely (PNG, JPEG, GIF, WebP, PDF),
// and with Content-Security-Policy: sandbox, so an uploaded HTML or SVG file opened in a tab
// is an opaque origin without scripts. Verified PDFs are served without sandbox, because
// browsers refuse to start their PDF viewer in a sandboxed document; their bytes are a PDF
// and nosniff keeps them one. Who may download is the caller's decision (the web app asks
// package inbox whether the user sees the file's conversation); this package has no HTTP
// handlers of its own.
package files
