// Package api serves Parley's REST API under /api/v1 (and the HubSpot-compatible custom channels
// paths under /conversations/v3). It owns HTTP concerns only: routing, authentication of the
// caller, decoding and validating JSON, rendering problem+json. Every change goes through the
// domain (package inbox) or the store; handlers hold no business rules of their own.
//
// routes.go is the single route table. The OpenAPI document and the authorization matrix test
// are checked against it, so a route cannot be added without both.
package api
