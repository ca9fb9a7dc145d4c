package api

import "net/http"

// Access says who may call a route.
type Access int

const (
	Public Access = iota // no sign-in (sign-in itself, health)
	Signed               // any signed-in user; the handler checks inbox membership
	Admin                // owners and admins
)

// Scope names what a route's {id} refers to when access to it depends on inbox membership, so
// the generated authorization matrix can prove an outsider cannot reach it.
type Scope int

const (
	ScopeNone         Scope = iota
	ScopeConversation       // {id} is a conversation
	ScopeContact            // {id} is a contact (visible through a conversation the caller may see)
	ScopeInbox              // {id} is an inbox
	ScopeChannel            // {id} is a channel (visible through its inbox)
)

// Route is one entry of the route table.
type Route struct {
	Method  string
	Pattern string
	Access  Access
	Scope   Scope
	MaxBody int64 // 0 means maxBody
	// QueryToken also accepts the API token as ?hapikey=<token> (HubSpot's developer-key
	// parameter) when no Authorization header is sent; the custom channels API sets it so
	// HubSpot integrations port unchanged. The token is checked exactly like a bearer token.
	QueryToken bool
	Handle     func(s *Server, w http.ResponseWriter, r *http.Request) error
}

// routes is the route table. Add a route here, to openapi.json, and the matrix test follows.
func (s *Server) routes() []Route {
	var rts []Route
	rts = append(rts, authRoutes()...)
	rts = append(rts, peopleRoutes()...)
	rts = append(rts, conversationRoutes()...)
	rts = append(rts, contactRoutes()...)
	rts = append(rts, jobRoutes()...)
	rts = append(rts, customChannelRoutes()...)
	rts = append(rts, routingRoutes()...)
	rts = append(rts, emailChannelRoutes()...)
	rts = append(rts, emailFilterRoutes()...)
	rts = append(rts, chatChannelRoutes()...)
	rts = append(rts, slackRoutes()...)
	rts = append(rts, botRoutes()...)
	rts = append(rts, transcriptRoutes()...)
	rts = append(rts, realtimeRoutes()...)
	rts = append(rts, openapiRoutes()...)
	return rts
}

// Routes exposes the route table to tests and the OpenAPI check.
func (s *Server) Routes() []Route { return s.routes() }
