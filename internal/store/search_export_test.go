package store

// SetSearchWindow sets how many matches a search reads first and how many contact rows it
// collects, and returns a function that restores them. Tests only; not for parallel tests.
func SetSearchWindow(window, contacts int) (restore func()) {
	w, c := searchWindow, contactProbe
	searchWindow, contactProbe = window, contacts
	return func() { searchWindow, contactProbe = w, c }
}
