// Package stats is how the benchmark programs summarise their samples:
// latency percentiles read from every sample, sorted, and the median of a
// benchmark's repetitions.
package stats

import "slices"

// Number is what a sample can be: a time.Duration, nanoseconds as an
// int64, or a float64.
type Number interface{ ~int64 | ~float64 }

// Percentile returns the sample at fraction p (from 0 to 1) of sorted,
// which must be in ascending order: the one at index ⌊p·n⌋, or the last
// for p = 1, so that Percentile(s, 1) is the maximum and Percentile(s,
// 0.5) the upper middle sample. It returns zero for no samples.
func Percentile[T Number](sorted []T, p float64) T {
	if len(sorted) == 0 {
		var zero T
		return zero
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// Median returns the middle of vs (in any order; vs is not changed), or
// the mean of the two middle values for an even count, and false for no
// values.
func Median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}
