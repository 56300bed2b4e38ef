// Package stats is the arithmetic of the benchmark's figures: percentiles
// of one run's latency samples, and medians and ratios across rounds.
package stats

import (
	"cmp"
	"math"
	"slices"
)

// Number is what the functions take: durations, counts, rates.
type Number interface {
	~int | ~int64 | ~uint64 | ~float64
}

// Sorted returns a sorted copy of xs.
func Sorted[T Number](xs []T) []T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// Percentile returns the p-th percentile of sorted (ascending) by the
// nearest-rank method: the smallest sample with at least p% of the samples
// at or below it. It is always one of the samples, never an interpolation,
// so a p99 is a latency some request really had. p is clamped to [0, 100];
// p 0 is the minimum. An empty slice gives 0.
func Percentile[T Number](sorted []T, p float64) T {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	p = math.Max(0, math.Min(100, p))
	rank := int(math.Ceil(p / 100 * float64(n)))
	// p/100*n is computed in floating point: a rank that should be a whole
	// number k can come out as k+ε and ceil to k+1.
	if r := rank - 1; r >= 1 && math.Abs(float64(r)-p/100*float64(n)) < 1e-9 {
		rank = r
	}
	return sorted[max(rank, 1)-1]
}

// Median returns the median of xs, the mean of the middle two when their
// number is even, without changing xs. An empty slice gives NaN: a figure
// that was never measured must not read as zero.
func Median[T Number](xs []T) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	s := Sorted(xs)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// MinMax returns the smallest and largest of xs, NaN for an empty slice.
func MinMax[T Number](xs []T) (lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	return float64(slices.MinFunc(xs, cmp.Compare[T])), float64(slices.MaxFunc(xs, cmp.Compare[T]))
}

// Ratios returns a[i]/b[i] for each i of the shorter of the two: the
// per-round ratios of two servers measured in the same rounds, whose
// median is steadier than the ratio of the two medians when the machine's
// speed drifts between rounds. A zero b[i] gives NaN there.
func Ratios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, n)
	for i := range n {
		if b[i] == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = a[i] / b[i]
	}
	return out
}

// Finite returns xs without its NaNs and infinities.
func Finite(xs []float64) []float64 {
	return slices.DeleteFunc(slices.Clone(xs), func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) })
}
