package bench

import "testing"

// The chat scenario refuses runs it cannot do honestly: a visitor above the server's 5 frames/s
// would be refused rather than measured.
func TestChatOptions(t *testing.T) {
	for _, c := range []struct {
		o  ChatOptions
		ok bool
	}{
		{ChatOptions{Messages: 1000, Visitors: 20, Rate: 4}, true},
		{ChatOptions{Messages: 1, Visitors: 1, Rate: 5}, true},
		{ChatOptions{Messages: 0, Visitors: 1, Rate: 4}, false},
		{ChatOptions{Messages: 10, Visitors: 0, Rate: 4}, false},
		{ChatOptions{Messages: 10, Visitors: 1, Rate: 6}, false},
		{ChatOptions{Messages: 10, Visitors: 1, Rate: 0}, false},
		{ChatOptions{Messages: 200_000, Visitors: 1, Rate: 1}, false},
	} {
		if err := c.o.check(); (err == nil) != c.ok {
			t.Errorf("%+v: err %v, want ok %v", c.o, err, c.ok)
		}
	}
}
