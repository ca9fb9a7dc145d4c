package store

import "context"

// SetTestHookAfterEventSeq installs a hook that runs after a transaction's events are numbered
// and before it commits; pass nil to remove it. Tests only.
func SetTestHookAfterEventSeq(hook func(ctx context.Context)) { testHookAfterEventSeq = hook }
