package stats

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	s := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {0.5, 6}, {0.9, 10}, {0.99, 10}, {1, 10}} {
		if got := Percentile(s, c.p); got != c.want {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := Percentile([]float64(nil), 0.5); got != 0 {
		t.Errorf("Percentile(nil, 0.5) = %v, want 0", got)
	}
}

func TestMedian(t *testing.T) {
	if m, ok := Median([]float64{3, 1, 2}); !ok || m != 2 {
		t.Errorf("Median(3, 1, 2) = %v, %v; want 2, true", m, ok)
	}
	if m, ok := Median([]float64{4, 1, 3, 2}); !ok || m != 2.5 {
		t.Errorf("Median(4, 1, 3, 2) = %v, %v; want 2.5, true", m, ok)
	}
	if _, ok := Median(nil); ok {
		t.Error("Median(nil) reports a value")
	}
}
