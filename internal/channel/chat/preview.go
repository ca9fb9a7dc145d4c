package chat

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/parley-inbox/parley/internal/store"
)

// ownOrigin is the installation's own origin, scheme://host[:port] of BaseURL in lower case, or
// "" when BaseURL is not an http(s) URL.
func (s *Service) ownOrigin() string {
	u, err := url.Parse(strings.TrimSpace(s.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// widgetSettings are a channel's settings as the visitor endpoints apply them: the allowed
// origins plus Parley's own, where the admin app's preview page (Settings → Live chat →
// Preview) embeds the widget. Only Parley serves pages on its origin, so allowing it lets no
// other site in, and the preview works before any site is listed. The stored settings are not
// changed: the admin's list stays theirs.
func (s *Service) widgetSettings(ch *store.Channel) Settings {
	st := loadSettings(ch.Settings)
	if own := s.ownOrigin(); own != "" && !slices.Contains(st.AllowedOrigins, own) {
		st.AllowedOrigins = append(slices.Clip(st.AllowedOrigins), own)
	}
	return st
}

// FrameOrigins returns the sites that may embed a live channel's widget frame (widget.Frame):
// the allowed origins and Parley's own. An unknown or archived channel is widget_not_found.
func (s *Service) FrameOrigins(ctx context.Context, publicID string) ([]string, error) {
	wd, err := s.widgetByPublicID(ctx, publicID)
	if err != nil {
		return nil, err
	}
	return wd.settings.AllowedOrigins, nil
}
