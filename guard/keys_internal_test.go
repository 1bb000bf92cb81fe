package guard

import (
	"testing"
	"time"
)

func TestRefreshAfter(t *testing.T) {
	tests := []struct {
		cacheControl string
		want         time.Duration
	}{
		{cacheControl: "public, max-age=60", want: time.Minute},
		{cacheControl: "max-age=120, public", want: 2 * time.Minute},
		{cacheControl: `Max-Age="90"`, want: 90 * time.Second},
		{cacheControl: "max-age=1", want: minRefresh},
		{cacheControl: "max-age=86400", want: maxRefresh},
		{cacheControl: "max-age=99999999999999999", want: maxRefresh},
		{cacheControl: "max-age=99999999999999999999", want: defaultRefresh},
		{cacheControl: "max-age=-5", want: minRefresh},
		{cacheControl: "no-store", want: defaultRefresh},
		{cacheControl: "", want: defaultRefresh},
	}
	for _, tt := range tests {
		if got := refreshAfter(tt.cacheControl); got != tt.want {
			t.Errorf("refreshAfter(%q) = %v, want %v", tt.cacheControl, got, tt.want)
		}
	}
}
