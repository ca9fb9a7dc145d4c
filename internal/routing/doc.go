// Package routing decides who gets a conversation automatically, and why (SPEC ROUTE-1…7,
// ACCESS-6, ACCESS-7). Decide is pure: it takes a Snapshot of the candidates — role, inbox
// membership, availability, working hours, capacity and open counts, when each was last given a
// conversation — and returns a Decision that names the assignee (or nobody) with the users who
// were eligible and those skipped, each with a reason. Load reads that snapshot inside the
// caller's transaction. The package assigns nothing itself: the inbox domain applies a decision
// through the same path as a manual assignment, so every assignment gets the same timeline
// events, and holds the routing lock (store.Tx.LockRouting) from reading the snapshot to commit.
package routing
