package api

import (
	_ "embed"
	"net/http"
)

// openapiDocument describes every route of the route table. It is written by hand so that it
// says what clients may rely on; openapi_test.go keeps it and the route table in step.
//
//go:embed openapi.json
var openapiDocument []byte

// openapiRoutes serves the document. It needs no sign-in: client generators and API explorers
// fetch it before they have credentials.
func openapiRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/openapi.json", Access: Public, Handle: serveOpenAPI},
	}
}

func serveOpenAPI(s *Server, w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	// Clients should revalidate: the document changes when the server is upgraded.
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openapiDocument) // the client went away; nothing useful to do
	return nil
}
