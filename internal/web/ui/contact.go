package ui

func (s *Server) contactRoutes() []route { return nil }
