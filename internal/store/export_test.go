package store

// SetTestHookClaim installs a hook that runs at stages of a PostgreSQL claim ("chosen", "checked")
// with the job's id; pass nil to remove it. Tests only.
func SetTestHookClaim(hook func(stage string, id int64)) { testHookClaim = hook }
