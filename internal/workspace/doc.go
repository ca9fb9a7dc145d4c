// Package workspace owns the people side of an installation: users and their roles, sign-in
// sessions, API tokens, teams, inboxes and who may see them, the audit log of admin changes, and
// first-run setup. It enforces the rules (unique emails, who may grant which role, the last owner,
// inbox access) and writes an audit entry in the same transaction as every admin change.
//
// It uses package store for all data and package auth for secrets, and returns problem errors
// with stable codes. It knows nothing about HTTP; it must not touch conversations or messages
// (package inbox owns those).
package workspace
