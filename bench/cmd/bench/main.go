// Command bench is `make bench`: the authenticated Hello of this handler
// over HTTP on loopback, against a bare net/http ceiling, a Go peer (chi +
// golang-jwt + keyfunc) and a Node.js peer (express + jose), all with the
// same token, requests and load, in interleaved rounds; and, in the same
// rounds, the handler on the Tasks function (GET /api/tasks listing 20
// tasks, POST /api/tasks) on its embedded store. It writes
// benchmarks.md, its chart benchmarks.svg and the raw results.json to
// bench/out/, which git ignores, so that a try run leaves the tracked
// documents alone; with -update-docs (make bench-docs) the document and
// chart go to docs/ instead.
//
// Settings come from flags, whose defaults come from the environment
// variables named in their help, so that `ROUNDS=7 make bench` works.
//
//	bench                       run and write the documents to bench/out
//	bench -update-docs          run and write them to docs (make bench-docs)
//	bench -render results.json  write the documents from a saved run
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/entrafunc/entrafunc/bench/internal/report"
	"github.com/entrafunc/entrafunc/bench/internal/run"
)

// The defaults keep a whole run of six servers under about six minutes
// on two cores.
const (
	defaultRounds       = 5
	defaultDuration     = 5 * time.Second
	defaultOpenDuration = 4 * time.Second
	defaultConns        = 64
	defaultRate         = 2000
	defaultPostRate     = 500
	defaultColdStarts   = 1
	defaultWarmup       = time.Second
	defaultTags         = ""
)

// usageError is a mistake on the command line: exit 2, as Go commands do.
type usageError struct{ error }

func main() {
	err := mainErr(os.Args[1:])
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		// -h printed the flags; asking for help is not a failure.
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func mainErr(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var errs []error
	rounds := fs.Int("rounds", envInt("ROUNDS", defaultRounds, &errs), "interleaved rounds (ROUNDS)")
	duration := fs.Duration("duration", envDuration("DURATION", defaultDuration, &errs), "closed-loop run per server and round (DURATION)")
	openDuration := fs.Duration("open-duration", envDuration("OPEN_DURATION", defaultOpenDuration, &errs), "open-loop run per server and round (OPEN_DURATION)")
	conns := fs.Int("conns", envInt("CONNS", defaultConns, &errs), "closed-loop connections (CONNS)")
	rate := fs.Int("rate", envInt("RATE", defaultRate, &errs), "open-loop requests per second (RATE)")
	postRate := fs.Int("post-rate", envInt("POST_RATE", defaultPostRate, &errs), "open-loop requests per second of POST /api/tasks, which each commit's fsync bounds (POST_RATE)")
	coldStarts := fs.Int("cold-starts", envInt("COLD_STARTS", defaultColdStarts, &errs), "cold starts per server and round (COLD_STARTS)")
	warmup := fs.Duration("warmup", envDuration("WARMUP", defaultWarmup, &errs), "closed-loop warm-up per server before the first round (WARMUP)")
	tags := fs.String("handler-tags", envString("HANDLER_TAGS", defaultTags), "space-separated build tag lists, each an extra handler build measured when it changes the build (HANDLER_TAGS; comma-separated tags within one)")
	root := fs.String("root", "", "the main module's directory (default: found from the working directory)")
	docs := fs.String("docs", "", "where benchmarks.md and benchmarks.svg go (default: ROOT/"+outDir+", or ROOT/"+docsDir+" with -update-docs)")
	out := fs.String("json", "", "where the raw results go (default: ROOT/"+outDir+"/results.json)")
	updateDocs := fs.Bool("update-docs", false, "write benchmarks.md and benchmarks.svg to ROOT/"+docsDir+", the copies git tracks (make bench-docs)")
	render := fs.String("render", "", "write the documents from this saved results file instead of running")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if err := errors.Join(errs...); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *root == "" {
		r, err := findRoot()
		if err != nil {
			return err
		}
		*root = r
	}
	*docs, *out = outputs(*root, *docs, *out, *updateDocs)

	if *render != "" {
		b, err := os.ReadFile(*render)
		if err != nil {
			return err
		}
		var res report.Results
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: %w", *render, err)
		}
		if res.Why, err = readWhy(*root); err != nil {
			return err
		}
		return writeDocs(&res, *docs)
	}

	settings := report.Settings{
		Rounds: *rounds, Duration: *duration, OpenDuration: *openDuration, Warmup: *warmup,
		Conns: *conns, Rate: *rate, PostRate: *postRate, ColdStarts: *coldStarts, VariantTags: strings.Fields(*tags),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run.Run(ctx, run.Config{
		Root: *root, Settings: settings, Command: command(settings, *updateDocs),
		Go: envString("GO", "go"), Node: envString("NODE", "node"), Log: os.Stderr,
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	why, err := readWhy(*root)
	if err != nil {
		return err
	}
	res.Why = why
	if err := writeDocs(res, *docs); err != nil {
		return err
	}
	for _, t := range res.Targets() {
		verdict := "met"
		if !t.Met() {
			verdict = "MISSED"
		}
		fmt.Fprintf(os.Stderr, "%-34s %-8s goal %v %s, measured %.3g\n", t.Name, verdict, t.Goal, t.Unit, t.Measured)
	}
	// The Tasks rows have no goal yet: their figures are what the goals
	// will be set from.
	for _, t := range res.Tasks() {
		fmt.Fprintln(os.Stderr, t.Line())
	}
	fmt.Fprintf(os.Stderr, "took %v; wrote %s, %s and %s\n", res.Took.Round(time.Second),
		filepath.Join(*docs, "benchmarks.md"), filepath.Join(*docs, "benchmarks.svg"), *out)
	return nil
}

// writeDocs writes the chart and the document that shows it.
// whyFile holds the explanations of missed targets, one per line:
// "target name | why". A person writes them after reading a run; the
// report shows the placeholder for a missed target without one.
const whyFile = "bench/why.txt"

func readWhy(root string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(root, whyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	why := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, text, ok := strings.Cut(line, "|")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"target name | why\"", whyFile, i+1)
		}
		why[strings.TrimSpace(name)] = strings.TrimSpace(text)
	}
	return why, nil
}

func writeDocs(res *report.Results, dir string) error {
	svg, err := res.Chart()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.svg"), svg, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(res.Markdown("benchmarks.svg")), 0o644)
}

// outDir is where a run writes by default, from the main module's root:
// git ignores it (.gitignore), so a run made to try something never
// rewrites the tracked documents.
const outDir = "bench/out"

// docsDir is where make bench-docs writes the documents git tracks.
const docsDir = "docs"

// outputs returns where the documents and the raw results go: the flags'
// values when given, else under outDir, or the documents under docsDir
// when updateDocs asks for the tracked copies.
func outputs(root, docs, results string, updateDocs bool) (string, string) {
	if docs == "" {
		docs = filepath.Join(root, filepath.FromSlash(outDir))
		if updateDocs {
			docs = filepath.Join(root, docsDir)
		}
	}
	if results == "" {
		results = filepath.Join(root, filepath.FromSlash(outDir), "results.json")
	}
	return docs, results
}

// command is the run's command as a person would type it: make bench, or
// make bench-docs for the tracked documents, with the settings that
// differ from the defaults.
func command(s report.Settings, updateDocs bool) string {
	var env []string
	add := func(name string, differs bool, value string) {
		if differs {
			env = append(env, name+"="+value)
		}
	}
	add("ROUNDS", s.Rounds != defaultRounds, strconv.Itoa(s.Rounds))
	add("DURATION", s.Duration != defaultDuration, s.Duration.String())
	add("OPEN_DURATION", s.OpenDuration != defaultOpenDuration, s.OpenDuration.String())
	add("CONNS", s.Conns != defaultConns, strconv.Itoa(s.Conns))
	add("RATE", s.Rate != defaultRate, strconv.Itoa(s.Rate))
	add("POST_RATE", s.PostRate != defaultPostRate, strconv.Itoa(s.PostRate))
	add("COLD_STARTS", s.ColdStarts != defaultColdStarts, strconv.Itoa(s.ColdStarts))
	add("WARMUP", s.Warmup != defaultWarmup, s.Warmup.String())
	add("HANDLER_TAGS", strings.Join(s.VariantTags, " ") != defaultTags, "'"+strings.Join(s.VariantTags, " ")+"'")
	target := "make bench"
	if updateDocs {
		target = "make bench-docs"
	}
	return strings.Join(append(env, target), " ")
}

// findRoot walks up from the working directory to the main module's
// go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "module github.com/entrafunc/entrafunc\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the main module (github.com/entrafunc/entrafunc) is not in the working directory or above it: pass -root")
		}
		dir = parent
	}
}

func envString(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int, errs *[]error) int {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a whole number", name, v))
		return def
	}
	return n
}

func envDuration(name string, def time.Duration, errs *[]error) time.Duration {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a duration such as 5s", name, v))
		return def
	}
	return d
}
