package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// WhyPlaceholder stands where a person explains a missed target.
const WhyPlaceholder = "_why: to be written_"

// Markdown renders docs/benchmarks.md; chart is the SVG's path relative
// to the document.
func (r *Results) Markdown(chart string) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	s := r.Settings
	sums := r.Summaries()

	p("# Benchmarks\n\n")
	p("<!-- Written by `make bench-docs` (bench/cmd/bench): change the tool and run it again rather than editing the figures. -->\n\n")
	p("![Requests per second, p99 latency at %s req/s, cold start and RSS of each server](%s)\n\n", thousands(float64(s.Rate)), chart)
	rounds := fmt.Sprintf("in %d interleaved rounds; each figure is the median of the rounds", s.Rounds)
	if s.Rounds == 1 {
		rounds = "in one round"
	}
	p("One run of `make bench` on %s, %s. Every server got the same token, the same requests and the same load, on loopback, %s. ",
		r.Started.UTC().Format("2006-01-02"), r.Machine.summary(), rounds)
	p("Closed loop: %d keep-alive connections sending as fast as answers come, for %s. Open loop: %s req/s for %s. The whole run took %s.\n\n",
		s.Conns, s.Duration, thousands(float64(s.Rate)), s.OpenDuration, r.Took.Round(time.Second))

	p("## Results\n\n")
	p("| server | req/s (range) | p50 | p99 | p99 at %s req/s | cold start | RSS under load | peak RSS |\n", thousands(float64(s.Rate)))
	p("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range sums {
		p("| %s | %s (%s–%s) | %s | %s | %s | %s | %s | %s |\n", x.Server.Name,
			thousands(x.RPS), thousands(x.RPSLo), thousands(x.RPSHi),
			ms(x.P50), ms(x.P99), r.atRate(x.OpenP99, x.OpenRate), ms(x.ColdStart),
			mb(x.RSSKB), mb(float64(x.Server.PeakRSSKB)))
	}
	p("\n")
	p("p50 and p99 are the closed loop's, where every server is saturated and queueing dominates. ")
	p("The p99 at %s req/s is vegeta's, from each request's send; the per-round table also gives it from each request's scheduled send time, which adds the generator's own lateness (see How it measures). ", thousands(float64(s.Rate)))
	p("RSS under load is the largest VmRSS sampled every 50 ms during a closed-loop run; peak RSS is VmHWM at the end of the run. MB are 10⁶ bytes.\n\n")

	p("## Ratios\n\n")
	p("Requests per second of the first over the second, per round; the median and the range of the rounds.\n\n")
	p("| ratio | median | range |\n|---|---:|---:|\n")
	for _, pair := range r.ratioPairs() {
		rt := r.RatioOf(pair[0], pair[1])
		if math.IsNaN(rt.Median) {
			continue
		}
		p("| %s / %s | %.2f | %.2f–%.2f |\n", r.name(pair[0]), r.name(pair[1]), rt.Median, rt.Lo, rt.Hi)
	}
	p("\n")

	p("## Targets\n\n")
	p("Measured on the handler as it runs by default (verified-token cache on).\n\n")
	p("| target | goal | measured | | missed by | why |\n|---|---:|---:|---|---:|---|\n")
	for _, t := range r.Targets() {
		op := "≤"
		if t.AtLeast {
			op = "≥"
		}
		measured, verdict, by, why := "not measured", "missed", "", WhyPlaceholder
		if !math.IsNaN(t.Measured) {
			measured = t.format(t.Measured)
			if t.Met() {
				verdict, why = "met", ""
			} else {
				abs, rel := t.Shortfall()
				by = fmt.Sprintf("%s (%.0f%%)", t.format(abs), rel*100)
				if w := r.Why[t.Name]; w != "" {
					why = w
				}
			}
		}
		p("| %s | %s %s | %s | %s | %s | %s |\n", t.Name, op, t.format(t.Goal), measured, verdict, by, why)
	}
	p("\nWhere each figure comes from: ")
	for i, t := range r.Targets() {
		if i > 0 {
			p("; ")
		}
		p("%s: %s", t.Name, t.Detail)
	}
	p(".\n\n")

	r.markdownTasks(p)

	p("## Servers\n\n| server | what |\n|---|---|\n")
	for _, x := range r.Servers {
		p("| %s | %s |\n", x.Name, x.What)
	}
	p("\n")
	if len(r.Notes) > 0 {
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}

	p("## Machine\n\n| | |\n|---|---|\n")
	m := r.Machine
	p("| CPU | %s |\n| cores | %d |\n| memory | %s |\n| OS | %s |\n| kernel | %s |\n| Go | %s |\n| Node.js | %s |\n", m.CPU, m.Cores, m.Memory, m.OS, m.Kernel, m.Go, m.Node)
	p("| CPU used by other processes during the run | %.0f%% |\n", 100*m.OtherCPU)
	if m.StoreFS != "" {
		p("| the handlers' tasks stores | %s |\n", m.StoreFS)
	}
	p("\n")

	p("## Command\n\n```sh\n%s\n```\n\n", r.Command)
	p("`make bench` builds the servers, installs the Node peer's packages with `npm ci` (bench/node/package-lock.json) when they are missing or older than the lockfile, runs everything, and writes this file, its chart and the raw results to bench/out/, which git ignores; `make bench-docs` runs the same and writes this file and its chart to docs/ (`cd bench && go run ./cmd/bench -render out/results.json -update-docs` renders them there again from the raw results). ")
	p("ROUNDS, DURATION, OPEN_DURATION, CONNS, RATE, POST_RATE, COLD_STARTS and HANDLER_TAGS change the settings.\n\n")

	p("## How it measures\n\n")
	p("- **Servers.** Each runs as its own process, started once and kept for the whole run, and again for each cold start. The handler is built from ./cmd/handler with CGO_ENABLED=0 and started as the Functions host starts it (FUNCTIONS_CUSTOMHANDLER_PORT, then GET / until it answers), in jwt mode against the test issuer (AUTH_AUTHORITY=http://127.0.0.1:PORT, AUTH_TENANT_ID, AUTH_AUDIENCES), once with its default verified-token cache and once with AUTH_TOKEN_CACHE_SIZE=0. Every handler process, cold starts included, gets TASKS_STORE=embedded and a TASKS_STORE_FILE of its own in a temporary directory, deleted when the process stops.\n")
	if tasks := r.Tasks(); len(tasks) > 0 {
		listed := "its tasks"
		for _, t := range tasks {
			if t.Server.Key == TasksList && t.StoreTasks > 0 {
				listed = fmt.Sprintf("its %d tasks", t.StoreTasks)
			}
		}
		p("- **Tasks.** Handler processes of their own, verified-token cache on, are measured on the Tasks function instead of Hello, with the same token and connections (the open-loop rates are under Tasks). GET /api/tasks: before any load, the token's user creates %s with POST /api/tasks, and the list must hold exactly them, on one page. POST /api/tasks: Content-Type: application/json and the same body each time, which must be answered 201 with the task. Both routes must refuse a request without a token with 401. POST's process is started, checked and warmed up on a new store file at the start of each of its turns and stopped at the end of it. Neither has a cold start: the process is the Hello handler's.\n", listed)
	}
	p("- **Issuer.** internal/entratest, in the benchmark's process: Entra's real metadata documents made tenant-specific, an RSA 2048 key shaped like Entra's, and one delegated v2 access token (scp user_impersonation) used for every request. Before any load, each authenticated server must answer that token 200 with Hello's text, and refuse no token, another audience, another tenant, another issuer, an expired token and an unknown key with 401 and a token without the scope with 403: a peer that checked less would not be a fair comparison.\n")
	p("- **Logs.** Every server but the ceiling writes a JSON line per request to stdout, which is a pipe that the benchmark reads and counts, as the Functions host reads a handler's stdout; /dev/null would spare the servers the pipe's copy and wake-up that production pays.\n")
	p("- **Closed loop.** A minimal HTTP/1.1 client on raw connections in the benchmark's process (bench/internal/load): the request is the same bytes every time and only the status line and framing headers are parsed. On two cores the load generator takes its CPU from the server under test, and a net/http client costs several times as much per request, which would lower every figure and flatten the differences. The server and the generator share the cores, with no pinning.\n")
	p("- **Open loop.** vegeta's attacker as a library (v12.13.0), at a constant rate, with as many workers and connections as the rate needs, so that no request waits for the server to finish another before it is sent. Latency is vegeta's, from the send to the last byte of the answer. As a check on coordinated omission the benchmark also reconstructs each request's scheduled send time from vegeta's sequence numbers and reports the latency from there, and how far the generator fell behind: that figure includes the generator's timer slack (Go's timers oversleep sub-millisecond waits by about a millisecond on an otherwise idle Linux core, so vegeta's pacer sends in small bursts) and the CPU the server under test takes from it, so it is an upper bound, and a large lag marks a round whose open-loop figures are suspect.\n")
	p("- **Cold start.** From just before exec to the first 200 to an authenticated GET /api/Hello: GET / every millisecond until any answer, as the host polls, then the authenticated request until it answers 200 (the handler holds it until the keys arrive; the Node peer fetches its key set on the first request; the Go peer fetches it before it listens).\n")
	p("- **Rounds.** Each round measures every server in turn (closed loop, open loop, cold start), starting one server later than the round before, so that drift of the machine's speed falls on all alike; ratios are taken within a round. A warm-up run of %s precedes the first round for each server (each turn, for a server started anew in each round).\n\n", s.Warmup)

	p("## Per round\n\n")
	p("| round | server | req/s | p50 | p99 | errors | RSS | p99 at %s req/s (from send) | from schedule | generator behind by | cold start | store file |\n", thousands(float64(s.Rate)))
	p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rd := range r.Rounds {
		var cold []string
		for _, c := range rd.ColdStarts {
			cold = append(cold, ms(c))
		}
		errs := fmt.Sprintf("%d", rd.Errors)
		if rd.OpenOK != rd.OpenRequests {
			errs += fmt.Sprintf(" + %d open", rd.OpenRequests-rd.OpenOK)
		}
		store := "–"
		if sv, ok := r.Server(rd.Server); ok && !sv.Hello() {
			store = storeSize(rd.StoreBytes)
		}
		p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rd.Round, r.name(rd.Server), thousands(rd.RPS), ms(rd.P50), ms(rd.P99), errs,
			mb(float64(rd.RSSKB)), r.atRate(rd.OpenP99, r.openRate(rd)), ms(rd.OpenP99Sched), ms(rd.OpenLateness), strings.Join(cold, ", "), store)
	}
	p("\n")
	p("Log lines per request (each server's stdout lines over the requests the benchmark sent it, warm-up and checks included):")
	for i, x := range r.Servers {
		if i > 0 {
			p(";")
		}
		lpr := 0.0
		if x.Requests > 0 {
			lpr = float64(x.LogLines) / float64(x.Requests)
		}
		p(" %s %.2f", x.Name, lpr)
	}
	p(".\n")
	return b.String()
}

// ratioPairs are the ratios shown: the handler and its variants against
// each other server on Hello, and the Tasks rows against the handler on
// Hello.
func (r *Results) ratioPairs() [][2]string {
	var pairs [][2]string
	var handlers, others, tasks []string
	for _, s := range r.Servers {
		if !s.Hello() {
			tasks = append(tasks, s.Key)
			continue
		}
		if strings.HasPrefix(s.Key, Handler) {
			handlers = append(handlers, s.Key)
		} else {
			others = append(others, s.Key)
		}
	}
	for _, h := range handlers {
		for _, o := range others {
			pairs = append(pairs, [2]string{h, o})
		}
	}
	for _, h := range append(handlers[min(1, len(handlers)):], tasks...) {
		pairs = append(pairs, [2]string{h, Handler})
	}
	return pairs
}

func (r *Results) name(key string) string {
	if s, ok := r.Server(key); ok {
		return s.Name
	}
	return key
}

func (m Machine) summary() string {
	return fmt.Sprintf("%d × %s, %s, %s, Node.js %s", m.Cores, m.CPU, m.Kernel, m.Go, m.Node)
}

func (t Target) format(v float64) string {
	switch t.Unit {
	case "×":
		return fmt.Sprintf("%.2f×", v)
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	default:
		return fmt.Sprintf("%.1f %s", v, t.Unit)
	}
}

// thousands formats a rate with thousands separators, rounded.
func thousands(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	n := int64(math.Round(x))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprintf("%d", n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ms formats a latency in milliseconds, with the precision it needs.
func ms(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	x := float64(d) / float64(time.Millisecond)
	switch {
	case x < 1:
		return fmt.Sprintf("%.3f ms", x)
	case x < 100:
		return fmt.Sprintf("%.2f ms", x)
	default:
		return fmt.Sprintf("%.0f ms", x)
	}
}

// mb formats kB (KiB, as /proc reports) as MB of 10⁶ bytes.
func mb(kb float64) string {
	if kb == 0 || math.IsNaN(kb) {
		return "–"
	}
	return fmt.Sprintf("%.1f MB", kb*1024/1e6)
}
