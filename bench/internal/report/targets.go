package report

import (
	"fmt"
	"math"
	"time"
)

// Target is one of the project's goals for the handler (issue 10), and
// how this run did.
type Target struct {
	Name string
	// Goal is the bound, in Unit; AtLeast says which side is good.
	Goal    float64
	AtLeast bool
	Unit    string
	// Measured is the run's figure, NaN when it was not measured.
	Measured float64
	// Detail says where Measured comes from.
	Detail string
}

// Met reports whether the target was met; a figure not measured is not.
func (t Target) Met() bool {
	if math.IsNaN(t.Measured) {
		return false
	}
	if t.AtLeast {
		return t.Measured >= t.Goal
	}
	return t.Measured <= t.Goal
}

// Shortfall is by how much a missed target was missed, in Unit and as a
// fraction of the goal; zero when met.
func (t Target) Shortfall() (abs, rel float64) {
	if t.Met() || math.IsNaN(t.Measured) {
		return 0, 0
	}
	abs = math.Abs(t.Measured - t.Goal)
	return abs, abs / t.Goal
}

// Targets are the goals, measured on the handler as it runs by default
// (verified-token cache on).
func (r *Results) Targets() []Target {
	sums := map[string]Summary{}
	for _, s := range r.Summaries() {
		sums[s.Server.Key] = s
	}
	h, ok := sums[Handler]
	nan := math.NaN()
	ms := func(d time.Duration) float64 {
		if !ok {
			return nan
		}
		return float64(d) / float64(time.Millisecond)
	}
	mb := nan
	if ok {
		mb = h.RSSKB * 1024 / 1e6
	}
	ratio := func(to string) float64 {
		rt := r.RatioOf(Handler, to)
		return rt.Median
	}
	rate := fmt.Sprintf("%d", r.Settings.Rate)
	if r.Settings.Rate >= 1000 {
		rate = fmt.Sprintf("%d,%03d", r.Settings.Rate/1000, r.Settings.Rate%1000)
	}
	return []Target{
		{Name: "authenticated Hello / ceiling", Goal: 0.80, AtLeast: true, Unit: "×", Measured: ratio(Ceiling),
			Detail: "req/s, closed loop, median of the per-round ratios"},
		{Name: "authenticated Hello / Go peer", Goal: 1.8, AtLeast: true, Unit: "×", Measured: ratio(GoPeer),
			Detail: "req/s, closed loop, median of the per-round ratios"},
		{Name: "authenticated Hello / Node peer", Goal: 6, AtLeast: true, Unit: "×", Measured: ratio(Node),
			Detail: "req/s, closed loop, median of the per-round ratios"},
		{Name: "p99 at " + rate + " req/s", Goal: 2, Unit: "ms", Measured: ms(h.OpenP99),
			Detail: "open loop, vegeta's latency (from the request's send), median of the rounds"},
		{Name: "cold start", Goal: 50, Unit: "ms", Measured: ms(h.ColdStart),
			Detail: "exec to the first authenticated 200, issuer on loopback, median"},
		{Name: "RSS under load", Goal: 30, Unit: "MB", Measured: mb,
			Detail: "largest VmRSS during a closed-loop run, median of the rounds (MB = 10⁶ bytes)"},
	}
}
