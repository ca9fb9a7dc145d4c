package api

// conversationRoutes is filled in by its owner.
func conversationRoutes() []Route { return nil }
