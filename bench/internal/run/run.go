// Package run is the benchmark's pipeline: build the servers, start the
// test issuer, check every server answers and refuses as it should, then
// measure them in interleaved rounds.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/entrafunc/entrafunc/bench/internal/load"
	"github.com/entrafunc/entrafunc/bench/internal/report"
	"github.com/entrafunc/entrafunc/bench/internal/stats"
	"github.com/entrafunc/entrafunc/internal/entratest"
)

// Config is a run's settings.
type Config struct {
	// Root is the main module's directory; the bench module is Root/bench.
	Root string
	report.Settings
	// Go and Node are the commands. Defaults: go and node on PATH.
	Go, Node string
	// Command is recorded as the exact command of the run.
	Command string
	// Log receives progress. Default: discard.
	Log io.Writer
}

// hello is what every server answers the benchmark's request.
const hello = "Hello, Marc. This HTTP triggered function executed successfully."

const target = "/api/Hello?name=Marc"

// Run builds, checks and measures everything, and returns the results.
func Run(ctx context.Context, cfg Config) (*report.Results, error) {
	if cfg.Go == "" {
		cfg.Go = "go"
	}
	if cfg.Node == "" {
		cfg.Node = "node"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.PostRate == 0 {
		cfg.PostRate = cfg.Rate
	}
	if cfg.Rounds < 1 || cfg.Conns < 1 || cfg.Rate < 1 || cfg.PostRate < 1 || cfg.Duration <= 0 || cfg.OpenDuration <= 0 || cfg.ColdStarts < 0 {
		return nil, fmt.Errorf("run: settings out of range: %+v", cfg.Settings)
	}
	logf := func(format string, a ...any) { fmt.Fprintf(cfg.Log, format+"\n", a...) }
	began := time.Now()
	res := &report.Results{Started: began, Command: cfg.Command, Settings: cfg.Settings}
	res.Settings.PostRate = cfg.PostRate

	tmp, err := os.MkdirTemp("", "entrafunc-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	// Build and install first: nothing is measured until everything is
	// there.
	logf("building the servers")
	stores := filepath.Join(tmp, "stores")
	if err := os.Mkdir(stores, 0o700); err != nil {
		return nil, err
	}
	servers, notes, err := build(ctx, cfg, tmp, stores)
	if err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, notes...)
	if err := npmCI(ctx, filepath.Join(cfg.Root, "bench", "node"), logf); err != nil {
		return nil, err
	}
	res.Machine = machine(ctx, cfg)
	res.Machine.StoreFS = os.TempDir() + " (" + filesystem(stores) + ")"

	// From here on the machine should be busy with this run only: what
	// else used the CPU is measured, to tell a quiet run from a noisy one.
	var ownCPU atomic.Int64
	busy0, statErr := cpuTimes()
	self0 := selfCPU()
	measured := time.Now()

	is, err := entratest.Start(entratest.Config{})
	if err != nil {
		return nil, err
	}
	defer is.Close()
	// One token for every request of the run, good for longer than any run.
	tok := is.Mint(entratest.Token{Lifetime: 24 * time.Hour})
	for i := range servers {
		servers[i].env = envFor(servers[i], is)
	}

	auth := map[string]string{"Authorization": "Bearer " + tok}
	procs := make([]*proc, len(servers))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	// What each server's processes add up to: requests sent (for the log
	// lines per request), lines written, and the largest VmHWM, over
	// every process of a server that runs one a round.
	tallies := make([]tally, len(servers))
	// launch starts a process of server i, checks it, prepares it and
	// warms it up.
	launch := func(i int) error {
		s := servers[i]
		p, err := start(s, &ownCPU)
		if err != nil {
			return err
		}
		procs[i] = p
		if err := p.waitListening(10*time.Millisecond, 30*time.Second); err != nil {
			return err
		}
		n, err := preflight(ctx, p, is, tok)
		tallies[i].sent += n
		if err != nil {
			return err
		}
		if s.setup != nil {
			n, err := s.setup(ctx, p, tok)
			tallies[i].sent += n
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", s.name, err, p.stderr)
			}
		}
		logf("%-36s checked on port %d", s.name, p.port)
		if cfg.Warmup > 0 {
			w, err := load.Closed(ctx, p.addr(), withHeader(s.req, auth), cfg.Conns, cfg.Warmup)
			tallies[i].sent += w.Requests + w.Errors
			p.tasks += creates(s, w.Requests)
			if err != nil {
				return fmt.Errorf("%s: warm-up: %w", s.name, err)
			}
		}
		return nil
	}
	// retire stops server i's process, adding up what it did.
	retire := func(i int) error {
		p := procs[i]
		_, hwm, err := p.memory()
		if err != nil {
			return fmt.Errorf("%s: %w", servers[i].name, err)
		}
		p.stop() // flushes what the handler buffers, before the lines are counted
		procs[i] = nil
		tallies[i].hwm = max(tallies[i].hwm, hwm)
		tallies[i].lines += p.lines.Load()
		return nil
	}
	for i, s := range servers {
		if s.perRound {
			continue // started in its turn of each round
		}
		if err := launch(i); err != nil {
			return nil, err
		}
	}

	for round := 1; round <= cfg.Rounds; round++ {
		// Each round starts one server later, so that no server is always
		// measured first, or right after the same neighbour.
		for j := range servers {
			i := (j + round - 1) % len(servers)
			s := servers[i]
			if s.perRound {
				if err := launch(i); err != nil {
					return nil, fmt.Errorf("round %d: %w", round, err)
				}
			}
			p := procs[i]
			rd := report.Round{Round: round, Server: s.key, OpenRate: cfg.Rate}
			if s.req.Method == http.MethodPost {
				rd.OpenRate = cfg.PostRate
			}
			req := withHeader(s.req, auth)

			stopRSS := make(chan struct{})
			rss := p.sampleRSS(50*time.Millisecond, stopRSS)
			c, err := load.Closed(ctx, p.addr(), req, cfg.Conns, cfg.Duration)
			close(stopRSS)
			rd.RSSKB = <-rss
			if err != nil {
				return nil, fmt.Errorf("%s: round %d: %w", s.name, round, err)
			}
			tallies[i].sent += c.Requests + c.Errors
			p.tasks += creates(s, c.Requests)
			lat := stats.Sorted(c.Latencies)
			rd.RPS, rd.Requests, rd.Errors = c.RPS(), c.Requests, c.Errors
			rd.P50, rd.P99 = stats.Percentile(lat, 50), stats.Percentile(lat, 99)

			// A moment for the closed loop's connections to close and its
			// garbage to be collected before latency is measured.
			sleep(ctx, 200*time.Millisecond)
			o := load.Open(ctx, p.base(), req, rd.OpenRate, cfg.OpenDuration)
			tallies[i].sent += o.Requests
			p.tasks += creates(s, o.OK)
			rd.OpenRequests, rd.OpenOK, rd.OpenLateness = o.Requests, o.OK, o.Lateness
			rd.OpenP50 = stats.Percentile(stats.Sorted(o.Latencies), 50)
			rd.OpenP99 = stats.Percentile(stats.Sorted(o.Latencies), 99)
			rd.OpenP99Sched = stats.Percentile(stats.Sorted(o.FromSchedule), 99)

			if s.perRound {
				// Its turn is over: the process and its store go, so
				// that no round's writes weigh on the next.
				if err := retire(i); err != nil {
					return nil, err
				}
			}
			rd.StoreBytes = p.storeSize()
			if s.route != "" {
				rd.StoreTasks = p.tasks
			}
			if s.route == "" {
				// Cold start is the process's, whatever the route:
				// measured on Hello only.
				for range cfg.ColdStarts {
					d, err := coldStart(ctx, s, tok, &ownCPU)
					if err != nil {
						return nil, fmt.Errorf("%s: round %d: cold start: %w", s.name, round, err)
					}
					rd.ColdStarts = append(rd.ColdStarts, d)
				}
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			res.Rounds = append(res.Rounds, rd)
			store := ""
			if s.route != "" {
				store = fmt.Sprintf(" | store %.2f MB", float64(rd.StoreBytes)/1e6)
			}
			logf("round %d/%d %-36s %8.0f req/s  p50 %6.3f ms  p99 %6.2f ms  err %d | %d/s p99 %.3f ms (sched %.3f, behind ≤%.1f ms) ok %d/%d | RSS %.1f MB | cold %v%s",
				round, cfg.Rounds, s.name, rd.RPS, msf(rd.P50), msf(rd.P99), rd.Errors, rd.OpenRate, msf(rd.OpenP99), msf(rd.OpenP99Sched), msf(rd.OpenLateness),
				rd.OpenOK, rd.OpenRequests, float64(rd.RSSKB)*1024/1e6, roundAll(rd.ColdStarts), store)
		}
	}

	for i, s := range servers {
		if procs[i] != nil {
			if err := retire(i); err != nil {
				return nil, err
			}
		}
		t := tallies[i]
		// VmHWM lags VmRSS a little (the kernel batches its counters), so
		// a sample can exceed it: the peak is the larger.
		for _, rd := range res.Rounds {
			if rd.Server == s.key {
				t.hwm = max(t.hwm, rd.RSSKB)
			}
		}
		res.Servers = append(res.Servers, report.Server{Key: s.key, Name: s.name, What: s.what, Route: s.route, PeakRSSKB: t.hwm, LogLines: t.lines, Requests: t.sent})
		if s.key != report.Ceiling && float64(t.lines) < 0.99*float64(t.sent) {
			res.Notes = append(res.Notes, fmt.Sprintf("%s wrote %d log lines for %d requests: fewer than one a request.", s.name, t.lines, t.sent))
		}
	}
	if busy1, err := cpuTimes(); err == nil && statErr == nil {
		wall := time.Since(measured)
		other := (busy1 - busy0) - (selfCPU() - self0) - time.Duration(ownCPU.Load())
		res.Machine.OtherCPU = max(0, float64(other)/(float64(wall)*float64(runtime.NumCPU())))
		if res.Machine.OtherCPU > 0.05 {
			res.Notes = append(res.Notes, fmt.Sprintf("Other processes used about %.0f%% of the machine's CPU during the run: the figures are lower, and noisier, than on a quiet machine.", 100*res.Machine.OtherCPU))
		}
	}
	res.Took = time.Since(began)
	return res, nil
}

// build compiles the handler (and its variants), the ceiling and the Go
// peer into dir, and describes every server; the handler's processes keep
// their tasks stores in stores. A variant whose build tags change nothing
// is skipped with a note.
func build(ctx context.Context, cfg Config, dir, stores string) ([]server, []string, error) {
	benchDir := filepath.Join(cfg.Root, "bench")
	goBuild := func(moduleDir, out, pkg string, tags string) error {
		args := []string{"build", "-trimpath", "-o", filepath.Join(dir, out)}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		cmd := exec.CommandContext(ctx, cfg.Go, append(args, pkg)...)
		cmd.Dir = moduleDir
		// Static, as make build builds the handler; the shell's GOFLAGS
		// (a -race, a -mod=vendor) must not change what is measured.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GOOS=", "GOARCH=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		return nil
	}
	var notes []string
	servers := []server{{
		key: report.Ceiling, name: "ceiling", what: "a bare net/http server answering Hello's text: no routing, logging or authentication (bench/peers/bare)",
		bin: filepath.Join(dir, "bare"),
	}, {
		key: report.Handler, name: "handler", auth: true, bin: filepath.Join(dir, "handler"), storeDir: stores,
		what: "this handler in jwt mode, as it runs by default: verified-token cache on, a JSON log line per request",
	}, {
		key: "handler-nocache", name: "handler, cache off", auth: true, bin: filepath.Join(dir, "handler"), storeDir: stores,
		what: "the same with AUTH_TOKEN_CACHE_SIZE=0: an RS256 verification per request",
	}}
	if err := goBuild(benchDir, "bare", "./peers/bare", ""); err != nil {
		return nil, nil, err
	}
	if err := goBuild(cfg.Root, "handler", "./cmd/handler", ""); err != nil {
		return nil, nil, err
	}
	for _, tags := range cfg.VariantTags {
		changes, err := tagsChangeBuild(ctx, cfg, tags)
		if err != nil {
			return nil, nil, err
		}
		if !changes {
			notes = append(notes, fmt.Sprintf("The handler built with -tags %s was not measured: no file of ./cmd/handler or its packages depends on that tag.", tags))
			continue
		}
		out := "handler-" + strings.NewReplacer(",", "-", " ", "-").Replace(tags)
		if err := goBuild(cfg.Root, out, "./cmd/handler", tags); err != nil {
			return nil, nil, err
		}
		servers = append(servers, server{
			key: "handler-tags-" + tags, name: "handler, -tags " + tags, auth: true, bin: filepath.Join(dir, out), storeDir: stores,
			what: "the handler built with -tags " + tags + ", cache on",
		})
	}
	if err := goBuild(benchDir, "gopeer", "./peers/gopeer", ""); err != nil {
		return nil, nil, err
	}
	servers = append(servers, server{
		key: report.GoPeer, name: "Go peer", auth: true, bin: filepath.Join(dir, "gopeer"),
		what: "chi + golang-jwt/v5 + keyfunc/v3 (NewDefaultCtx on the jwks_uri) written from their READMEs: the same checks, no cache, slog.JSONHandler request line (bench/peers/gopeer)",
	}, server{
		key: report.Node, name: "Node peer", auth: true, bin: cfg.Node, args: []string{"server.mjs"}, dir: filepath.Join(benchDir, "node"),
		what: "express + jose (createRemoteJWKSet, jwtVerify with issuer and audience, tid and scp checks), one JSON request line, NODE_ENV=production (bench/node)",
	}, server{
		key: report.TasksList, name: "handler, GET /api/tasks", route: "GET /api/tasks", auth: true, bin: filepath.Join(dir, "handler"), storeDir: stores,
		req: load.Target{Path: tasksPath}, setup: seedTasks,
		what: fmt.Sprintf("the handler as it runs by default, listing the Tasks function's tasks on the embedded bbolt store: the benchmark's user has %d, created through the API before the first round, and each answer lists them all", listedTasks),
	}, server{
		key: report.TasksCreate, name: "handler, POST /api/tasks", route: "POST /api/tasks", auth: true, bin: filepath.Join(dir, "handler"), storeDir: stores,
		req: createTask, setup: checkCreate, perRound: true,
		what: "the handler as it runs by default, creating a task per request (" + string(createTask.Body) + ") on the embedded bbolt store: each round starts a new process on a new store file, checks and warms it up with the same request, and deletes the file after its turn",
	})
	for i := range servers {
		if servers[i].req.Path == "" {
			servers[i].req = load.Target{Path: target}
		}
	}
	return servers, notes, nil
}

// tagsChangeBuild reports whether building ./cmd/handler with tags
// compiles other files than without.
func tagsChangeBuild(ctx context.Context, cfg Config, tags string) (bool, error) {
	list := func(extra ...string) (string, error) {
		args := append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{.GoFiles}}"}, extra...)
		cmd := exec.CommandContext(ctx, cfg.Go, append(args, "./cmd/handler")...)
		cmd.Dir = cfg.Root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("go list: %w", err)
		}
		return string(out), nil
	}
	plain, err := list()
	if err != nil {
		return false, err
	}
	tagged, err := list("-tags", tags)
	if err != nil {
		return false, err
	}
	return plain != tagged, nil
}

// envFor is each server's environment: PATH only from the benchmark's, so
// that the shell's settings (GOGC, GOMAXPROCS, AUTH_*) cannot change what
// is measured.
func envFor(s server, is *entratest.Issuer) func(port int, storeFile string) []string {
	base := []string{"PATH=" + os.Getenv("PATH")}
	audiences := is.AppIDURI() + "," + is.ClientID()
	peer := []string{
		"JWKS_URL=" + is.JWKSURL(entratest.V2),
		"ISSUER=" + is.IssuerURL(entratest.V2),
		"AUDIENCES=" + audiences,
		"TENANT_ID=" + is.TenantID(),
	}
	return func(port int, storeFile string) []string {
		env := slices.Clone(base)
		switch {
		case s.key == report.Ceiling:
			env = append(env, "PORT="+strconv.Itoa(port))
		case strings.HasPrefix(s.key, report.Handler):
			env = append(env,
				"FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port),
				"AUTH_MODE=jwt",
				"AUTH_AUTHORITY="+is.URL(),
				"AUTH_TENANT_ID="+is.TenantID(),
				"AUTH_AUDIENCES="+audiences,
			)
			if s.key == "handler-nocache" {
				env = append(env, "AUTH_TOKEN_CACHE_SIZE=0")
			}
			// Every process its own file (server.storeDir): the store's
			// lock lets only one process open a file.
			env = append(env, "TASKS_STORE=embedded", "TASKS_STORE_FILE="+storeFile)
		case s.key == report.Node:
			env = append(env, "PORT="+strconv.Itoa(port), "NODE_ENV=production")
			env = append(env, peer...)
		default:
			env = append(env, "PORT="+strconv.Itoa(port))
			env = append(env, peer...)
		}
		return env
	}
}

// preflight holds an authenticated server to the checks the handler
// makes, before it is measured: a peer that accepted more tokens would
// do less work. It returns how many requests it sent.
func preflight(ctx context.Context, p *proc, is *entratest.Issuer, tok string) (int64, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	do := func(bearer string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base()+target, nil)
		if err != nil {
			return 0, "", err
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	status, body, err := do(tok)
	if err != nil {
		return 1, fmt.Errorf("%s: %w", p.srv.name, err)
	}
	if status != 200 || body != hello {
		return 1, fmt.Errorf("%s answered the benchmark's token %d %q, want 200 %q\n%s", p.srv.name, status, body, hello, p.stderr)
	}
	if !p.srv.auth {
		return 1, nil
	}
	now := time.Now()
	claims := is.Claims(entratest.Token{})
	claims["iss"] = "https://login.microsoftonline.com/9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e/v2.0"
	refused := []struct {
		name, tok string
		want      int
	}{
		{"no token", "", 401},
		{"another audience", is.Mint(entratest.Token{Audience: "api://another-api"}), 401},
		{"another tenant's tid", is.Mint(entratest.Token{Claims: map[string]any{"tid": "9b1e2c3d-4f5a-4b6c-8d7e-0f1a2b3c4d5e"}}), 401},
		{"another issuer", is.Sign("", claims), 401},
		{"expired", is.Mint(entratest.Token{IssuedAt: now.Add(-3 * time.Hour), Lifetime: time.Hour}), 401},
		{"an unknown key", is.Sign("bench-unknown-key", is.Claims(entratest.Token{})), 401},
		{"no scope", is.Mint(entratest.Token{Claims: map[string]any{"scp": nil}}), 403},
	}
	for _, c := range refused {
		status, body, err := do(c.tok)
		if err != nil {
			return int64(len(refused)), fmt.Errorf("%s, %s: %w", p.srv.name, c.name, err)
		}
		if status != c.want {
			return int64(len(refused)), fmt.Errorf("%s answered a token with %s %d %q, want %d: it does not make the handler's checks", p.srv.name, c.name, status, body, c.want)
		}
	}
	return int64(1 + len(refused)), nil
}

// coldStart starts a fresh process of s and measures the time from just
// before exec to the first 200 to an authenticated request, polling GET /
// every millisecond first, as the host does before it forwards anything.
func coldStart(ctx context.Context, s server, tok string, cpu *atomic.Int64) (time.Duration, error) {
	began := time.Now()
	p, err := start(s, cpu)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if err := p.waitListening(time.Millisecond, 30*time.Second); err != nil {
		return 0, err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base()+target, nil)
		if err != nil {
			return 0, err
		}
		if s.auth {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(began), nil
			}
		}
		if time.Since(began) > 30*time.Second {
			return 0, fmt.Errorf("no 200 within 30 s (last: %v)\n%s", errOrStatus(err, resp), p.stderr)
		}
		if err := sleep(ctx, time.Millisecond); err != nil {
			return 0, err
		}
	}
}

func errOrStatus(err error, resp *http.Response) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// npmCI installs the Node peer's packages as the lockfile pins them, when
// node_modules is missing or older than the lockfile.
func npmCI(ctx context.Context, dir string, logf func(string, ...any)) error {
	stamp := filepath.Join(dir, "node_modules", ".bench-stamp")
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	if st, err := os.Stat(stamp); err == nil && !st.ModTime().Before(lock.ModTime()) {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("the Node peer needs Node.js 20 or later and npm: npm is not on PATH (on Debian: apt-get install nodejs npm)")
	}
	logf("npm ci in %s", dir)
	// No install scripts: express and jose need none.
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci: %v\n%s", err, out)
	}
	return os.WriteFile(stamp, nil, 0o644)
}

// machine describes this machine from /proc and the tools' own words.
func machine(ctx context.Context, cfg Config) report.Machine {
	m := report.Machine{Cores: runtime.NumCPU(), CPU: "unknown", Memory: "unknown", OS: "unknown", Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	m.Go = output(ctx, cfg.Root, cfg.Go, "env", "GOVERSION")
	m.Node = output(ctx, cfg.Root, cfg.Node, "--version")
	return m
}

func output(ctx context.Context, dir, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(100 * time.Microsecond)
	}
	return out
}
