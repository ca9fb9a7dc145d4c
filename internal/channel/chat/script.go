package chat

import "context"

// WidgetExists returns nil when publicID names a live chat channel, and the visitor endpoints'
// widget_not_found problem otherwise: the widget script is served only for such channels.
func (s *Service) WidgetExists(ctx context.Context, publicID string) error {
	_, err := s.widgetByPublicID(ctx, publicID)
	return err
}
