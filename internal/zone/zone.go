// Package zone loads time zones by name once per process: time.LoadLocation parses the zone
// data on every call, and routing and chatflow availability ask for the same few zones on every
// decision and page view.
package zone

import (
	"sync"
	"time"
)

var locations sync.Map // string → *time.Location

// Location is time.LoadLocation, cached.
func Location(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
