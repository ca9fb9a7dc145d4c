package ui

func (s *Server) attachmentRoutes() []route { return nil }
