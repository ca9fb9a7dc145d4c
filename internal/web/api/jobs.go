package api

// jobRoutes is filled in by its owner.
func jobRoutes() []Route { return nil }
