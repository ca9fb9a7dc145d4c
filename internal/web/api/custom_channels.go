package api

// customChannelRoutes is filled in by its owner.
func customChannelRoutes() []Route { return nil }
