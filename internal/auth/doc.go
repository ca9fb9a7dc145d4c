// Package auth owns secrets that prove who a caller is: password hashing (argon2id), session and
// API token generation, and their at-rest hashes. It does not touch the database or HTTP.
package auth
