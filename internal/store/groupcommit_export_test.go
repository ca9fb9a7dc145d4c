package store

// LargestGroup reports the most calls one shared transaction has held.
func LargestGroup(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.largest
}
