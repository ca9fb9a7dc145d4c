package seed

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar with rate and time left, redrawn with \r at most five
// times a second. A nil writer draws nothing.
type progress struct {
	w     io.Writer
	what  string
	total int64

	mu      sync.Mutex
	n       int64
	began   time.Time
	lastDrw time.Time
}

func newProgress(w io.Writer, what string, total int64) *progress {
	return &progress{w: w, what: what, total: total, began: time.Now()}
}

func (p *progress) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	if p.w != nil && time.Since(p.lastDrw) >= 200*time.Millisecond {
		p.draw()
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil || p.total == 0 {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}

func (p *progress) draw() {
	p.lastDrw = time.Now()
	elapsed := time.Since(p.began)
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.n) / float64(p.total)
	}
	const width = 30
	full := int(frac * width)
	bar := strings.Repeat("=", full) + strings.Repeat(" ", width-full)
	if full < width {
		bar = bar[:full] + ">" + bar[full+1:]
	}
	rate := float64(p.n) / max(elapsed.Seconds(), 1e-3)
	eta := "--:--"
	if rate > 0 && p.n < p.total {
		eta = clock(time.Duration(float64(p.total-p.n) / rate * float64(time.Second)))
	} else if p.n >= p.total {
		eta = clock(elapsed)
	}
	fmt.Fprintf(p.w, "\r%-13s [%s] %3.0f%% %s/%s  %s/s  %s ", p.what, bar, frac*100,
		Thousands(p.n), Thousands(p.total), Thousands(int64(rate)), eta)
}

func clock(d time.Duration) string {
	s := int64(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Thousands formats n with thousands separators: 1234567 → "1,234,567".
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
