package ui

func (s *Server) settingsRoutes() []route { return nil }
