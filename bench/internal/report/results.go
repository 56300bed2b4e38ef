// Package report holds one benchmark run's results, the figures derived
// from them (medians across rounds, ratios, targets), and their rendering
// as docs/benchmarks.md and its chart. Rendering is a pure function of the
// results, so a saved run can be rendered again (bench -render) and the
// rendering can be tested without running anything.
package report

import (
	"math"
	"time"

	"github.com/entrafunc/entrafunc/bench/internal/stats"
)

// Server keys the targets and the Tasks section refer to.
const (
	Ceiling = "ceiling"
	Handler = "handler"
	GoPeer  = "gopeer"
	Node    = "node"
	// The handler on the Tasks function: GET /api/tasks (a list of 20)
	// and POST /api/tasks.
	TasksList   = "handler-tasks-list"
	TasksCreate = "handler-tasks-create"
)

// Results is one run.
type Results struct {
	Started  time.Time     `json:"started"`
	Took     time.Duration `json:"took"`
	Command  string        `json:"command"`
	Settings Settings      `json:"settings"`
	Machine  Machine       `json:"machine"`
	Servers  []Server      `json:"servers"`
	Rounds   []Round       `json:"rounds"`
	Notes    []string      `json:"notes,omitempty"`
	// Why explains a missed target, by target name: what a person found
	// out, which the tool cannot measure (bench/why.txt).
	Why map[string]string `json:"why,omitempty"`
}

// Settings are the load's parameters, the same for every server.
type Settings struct {
	Rounds       int           `json:"rounds"`
	Duration     time.Duration `json:"duration"`
	OpenDuration time.Duration `json:"open_duration"`
	Warmup       time.Duration `json:"warmup"`
	Conns        int           `json:"conns"`
	Rate         int           `json:"rate"`
	// PostRate is the open loop's rate for POST /api/tasks, which a
	// disk's fsync bounds far below Rate on a loaded machine.
	PostRate    int      `json:"post_rate,omitempty"`
	ColdStarts  int      `json:"cold_starts_per_round"`
	VariantTags []string `json:"variant_tags,omitempty"`
}

// Machine is what the run ran on.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Memory string `json:"memory"`
	OS     string `json:"os"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	Node   string `json:"node"`
	// OtherCPU is the share of the machine's CPU that processes other
	// than the run's own used while it measured: 0 on a quiet machine.
	OtherCPU float64 `json:"other_cpu"`
	// StoreFS is the directory of the handlers' tasks stores and its file
	// system: whether a commit's fsync reaches a disk.
	StoreFS string `json:"store_fs,omitempty"`
}

// Server is one server measured.
type Server struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	What string `json:"what"`
	// PeakRSSKB is VmHWM at the end of the run: the process's largest
	// resident set over its whole life, load included.
	PeakRSSKB uint64 `json:"peak_rss_kb"`
	// LogLines counts the lines the server wrote to stdout, and Requests
	// the requests the benchmark sent it (warm-up and checks included).
	LogLines int64 `json:"log_lines"`
	Requests int64 `json:"requests"`
	// Route is the request measured, as "METHOD /path", when it is not
	// the authenticated Hello every other server answers.
	Route string `json:"route,omitempty"`
}

// Hello reports whether the server is measured on Hello, the request the
// peers answer too.
func (s Server) Hello() bool { return s.Route == "" }

// Round is one server's figures in one round.
type Round struct {
	Round  int    `json:"round"`
	Server string `json:"server"`
	// Closed loop.
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	Requests int64         `json:"requests"`
	Errors   int64         `json:"errors"`
	// RSSKB is the largest VmRSS sampled during the closed-loop run.
	RSSKB uint64 `json:"rss_kb"`
	// Open loop at OpenRate (Settings.Rate when 0, as in runs saved
	// before the rates differed).
	OpenRate     int           `json:"open_rate,omitempty"`
	OpenP50      time.Duration `json:"open_p50"`
	OpenP99      time.Duration `json:"open_p99"`
	OpenP99Sched time.Duration `json:"open_p99_from_schedule"`
	OpenRequests int64         `json:"open_requests"`
	OpenOK       int64         `json:"open_ok"`
	OpenLateness time.Duration `json:"open_lateness"`
	// ColdStarts: exec to the first authenticated 200, one per cold
	// start of the round.
	ColdStarts []time.Duration `json:"cold_starts"`
	// StoreBytes is the size of the server's tasks store file at the end
	// of its turn in the round, for a handler; 0 for the peers.
	StoreBytes int64 `json:"store_bytes,omitempty"`
	// StoreTasks is how many tasks the store held then, for the Tasks
	// rows: those created before the list was measured, or every task
	// the POST row created in its turn.
	StoreTasks int64 `json:"store_tasks,omitempty"`
}

// Summary is one server's figures across rounds: medians, with the
// range where it says so.
type Summary struct {
	Server             Server
	RPS, RPSLo, RPSHi  float64
	P50, P99           time.Duration
	OpenP99            time.Duration
	OpenP99Sched       time.Duration
	OpenLateness       time.Duration // the largest of any round
	OpenRate           int           // of the rounds
	OpenSuccess        float64       // answered 200, of all sent, all rounds
	ColdStart          time.Duration
	ColdLo, ColdHi     time.Duration
	RSSKB              float64
	Errors, Requests   int64
	ColdStartsMeasured int
}

// Summaries returns each server's summary, in the servers' order.
func (r *Results) Summaries() []Summary {
	out := make([]Summary, 0, len(r.Servers))
	for _, s := range r.Servers {
		var rps, rss []float64
		var p50, p99, op99, op99s, cold []time.Duration
		sum := Summary{Server: s}
		var sent, ok int64
		for _, rd := range r.Rounds {
			if rd.Server != s.Key {
				continue
			}
			rps = append(rps, rd.RPS)
			rss = append(rss, float64(rd.RSSKB))
			p50, p99 = append(p50, rd.P50), append(p99, rd.P99)
			op99, op99s = append(op99, rd.OpenP99), append(op99s, rd.OpenP99Sched)
			cold = append(cold, rd.ColdStarts...)
			sum.Errors += rd.Errors
			sum.Requests += rd.Requests
			sent += rd.OpenRequests
			ok += rd.OpenOK
			sum.OpenLateness = max(sum.OpenLateness, rd.OpenLateness)
			sum.OpenRate = r.openRate(rd)
		}
		sum.RPS = stats.Median(rps)
		sum.RPSLo, sum.RPSHi = stats.MinMax(rps)
		sum.P50, sum.P99 = medianDuration(p50), medianDuration(p99)
		sum.OpenP99, sum.OpenP99Sched = medianDuration(op99), medianDuration(op99s)
		sum.ColdStart = medianDuration(cold)
		lo, hi := stats.MinMax(cold)
		sum.ColdLo, sum.ColdHi = time.Duration(nanToZero(lo)), time.Duration(nanToZero(hi))
		sum.ColdStartsMeasured = len(cold)
		sum.RSSKB = stats.Median(rss)
		sum.OpenSuccess = math.NaN()
		if sent > 0 {
			sum.OpenSuccess = float64(ok) / float64(sent)
		}
		out = append(out, sum)
	}
	return out
}

// postRate is the rate of POST /api/tasks's open loop.
func (r *Results) postRate() int {
	if r.Settings.PostRate > 0 {
		return r.Settings.PostRate
	}
	return r.Settings.Rate
}

// openRate is the open loop's rate of rd.
func (r *Results) openRate(rd Round) int {
	if rd.OpenRate > 0 {
		return rd.OpenRate
	}
	return r.Settings.Rate
}

// atRate is a p99 at rate, naming the rate when it is not the run's own.
func (r *Results) atRate(p99 time.Duration, rate int) string {
	if rate == 0 || rate == r.Settings.Rate || p99 == 0 {
		return ms(p99)
	}
	return ms(p99) + " at " + thousands(float64(rate)) + " req/s"
}

// Ratio is one server's throughput over another's, per round.
type Ratio struct {
	Of, To               string // server keys
	Median, Lo, Hi       float64
	PerRound             []float64
	OfMissing, ToMissing bool
}

// RatioOf returns of's req/s over to's, round by round, and their median:
// both are measured in the same rounds, so a machine that slows down
// between rounds moves both.
func (r *Results) RatioOf(of, to string) Ratio {
	byRound := func(key string) map[int]float64 {
		m := map[int]float64{}
		for _, rd := range r.Rounds {
			if rd.Server == key {
				m[rd.Round] = rd.RPS
			}
		}
		return m
	}
	a, b := byRound(of), byRound(to)
	if _, ok := r.Server(of); !ok {
		a = nil
	}
	if _, ok := r.Server(to); !ok {
		b = nil
	}
	var xs, ys []float64
	for round := 1; round <= r.Settings.Rounds; round++ {
		x, okx := a[round]
		y, oky := b[round]
		if okx && oky {
			xs, ys = append(xs, x), append(ys, y)
		}
	}
	ratios := stats.Finite(stats.Ratios(xs, ys))
	rt := Ratio{Of: of, To: to, PerRound: ratios, OfMissing: len(a) == 0, ToMissing: len(b) == 0}
	rt.Median = stats.Median(ratios)
	rt.Lo, rt.Hi = stats.MinMax(ratios)
	return rt
}

// Server returns the server with key, and whether there is one.
func (r *Results) Server(key string) (Server, bool) {
	for _, s := range r.Servers {
		if s.Key == key {
			return s, true
		}
	}
	return Server{}, false
}

func medianDuration(ds []time.Duration) time.Duration {
	return time.Duration(nanToZero(stats.Median(ds)))
}

func nanToZero(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}
