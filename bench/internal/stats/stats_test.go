package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPercentileTable(t *testing.T) {
	s := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want int
	}{
		{0, 1}, {1, 1}, {10, 1}, {10.01, 2}, {50, 5}, {51, 6}, {90, 9}, {99, 10}, {100, 10}, {-5, 1}, {250, 10},
	} {
		if got := Percentile(s, tc.p); got != tc.want {
			t.Errorf("Percentile(1..10, %v) = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := Percentile([]int(nil), 99); got != 0 {
		t.Errorf("empty: %d", got)
	}
	if got := Percentile([]time.Duration{7 * time.Millisecond}, 99); got != 7*time.Millisecond {
		t.Errorf("one sample: %v", got)
	}
	// 100 samples: p99 is the 99th, not the largest.
	h := make([]int, 100)
	for i := range h {
		h[i] = i + 1
	}
	if got := Percentile(h, 99); got != 99 {
		t.Errorf("p99 of 1..100 = %d, want 99", got)
	}
	// A whole rank that floating point rounds up: 0.29*100 is 28.999…
	// or 29.000…1 depending on the operands.
	if got := Percentile(h, 29); got != 29 {
		t.Errorf("p29 of 1..100 = %d, want 29", got)
	}
}

// TestPercentileDefinition holds Percentile to the nearest-rank
// definition on random inputs: v is a sample, at least p% of the samples
// are <= v, and fewer than p% are < v.
func TestPercentileDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(300)
		xs := make([]int64, n)
		for i := range xs {
			xs[i] = r.Int64N(50) // ties are common
		}
		s := Sorted(xs)
		p := r.Float64() * 100
		if r.IntN(10) == 0 {
			p = float64(r.IntN(101)) // whole percentiles too
		}
		v := Percentile(s, p)
		if !slices.Contains(xs, v) {
			t.Fatalf("p%v of %v = %d, not a sample", p, s, v)
		}
		le, lt := 0, 0
		for _, x := range xs {
			if x <= v {
				le++
			}
			if x < v {
				lt++
			}
		}
		need := p / 100 * float64(n)
		if float64(le) < need-1e-9 || (p > 0 && float64(lt) >= need-1e-9) {
			t.Fatalf("p%v of %v = %d: %d samples <= it, %d below, want >= and < %.3f", p, s, v, le, lt, need)
		}
	}
}

func TestPercentileMonotonic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = r.ExpFloat64()
	}
	s := Sorted(xs)
	prev := math.Inf(-1)
	for p := 0.0; p <= 100; p += 0.5 {
		v := Percentile(s, p)
		if v < prev {
			t.Fatalf("p%v = %v < p%v = %v", p, v, p-0.5, prev)
		}
		prev = v
	}
	if Percentile(s, 0) != s[0] || Percentile(s, 100) != s[len(s)-1] {
		t.Error("p0 and p100 are not the extremes")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 9, 5}, 5},
	} {
		in := slices.Clone(tc.xs)
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		if !slices.Equal(in, tc.xs) {
			t.Errorf("Median changed its input: %v", tc.xs)
		}
	}
	if !math.IsNaN(Median([]float64(nil))) {
		t.Error("Median of nothing is not NaN")
	}
	if got := Median([]time.Duration{time.Millisecond, 3 * time.Millisecond}); got != float64(2*time.Millisecond) {
		t.Errorf("Median of durations = %v", got)
	}
}

// TestMedianDefinition: on random inputs, no more than half the values
// are strictly below the median and no more than half strictly above.
func TestMedianDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		xs := make([]int, 1+r.IntN(20))
		for i := range xs {
			xs[i] = r.IntN(10)
		}
		m := Median(xs)
		below, above := 0, 0
		for _, x := range xs {
			if float64(x) < m {
				below++
			}
			if float64(x) > m {
				above++
			}
		}
		if 2*below > len(xs) || 2*above > len(xs) {
			t.Fatalf("Median(%v) = %v: %d below, %d above", xs, m, below, above)
		}
		lo, hi := MinMax(xs)
		if m < lo || m > hi {
			t.Fatalf("Median(%v) = %v outside [%v, %v]", xs, m, lo, hi)
		}
	}
}

func TestRatios(t *testing.T) {
	got := Ratios([]float64{10, 9, 8}, []float64{5, 0})
	if len(got) != 2 || got[0] != 2 || !math.IsNaN(got[1]) {
		t.Errorf("Ratios = %v", got)
	}
	if f := Finite(got); len(f) != 1 || f[0] != 2 {
		t.Errorf("Finite = %v", f)
	}
	if lo, hi := MinMax([]float64{3, -1, 7}); lo != -1 || hi != 7 {
		t.Errorf("MinMax = %v, %v", lo, hi)
	}
}
