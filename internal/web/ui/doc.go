// Package ui is the agent web app: server-rendered pages (html/template) made live by htmx,
// idiomorph and a few small ES modules, all embedded in the binary and served at /.
//
// It owns HTTP for browsers: pages, form posts, fragments for htmx, static assets, translations.
// It holds no business rules: every read and change goes through packages inbox and workspace,
// exactly as the JSON API does, so the same permission checks apply. It never writes SQL.
//
// Shape:
//   - server.go   the Server, its middleware (session, CSRF, headers) and the route list
//   - render.go   templates, the Page every template gets, fragments for htmx targets
//   - i18n.go     translations from locales/<lang>/*.json; all UI text goes through them
//   - assets.go   static files under a content-hashed path, CSS concatenated into one file
//   - one file per area (auth.go, inbox.go, conversation.go, contact.go, settings_*.go …),
//     each with its templates in templates/pages and templates/partials, its strings in
//     locales/<lang>/<area>.json and its styles in static/css/<area>.css
//
// Live updates: elements marked data-live (see static/js/live.js) are re-fetched and morphed
// when a matching event arrives on /api/v1/realtime, so every page stays current without
// bespoke client code.
package ui
