package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrafunc/entrafunc/bench/internal/report"
)

func TestCommand(t *testing.T) {
	s := report.Settings{Rounds: defaultRounds, Duration: defaultDuration, OpenDuration: defaultOpenDuration, Warmup: defaultWarmup,
		Conns: defaultConns, Rate: defaultRate, PostRate: defaultPostRate, ColdStarts: defaultColdStarts}
	if got := command(s, false); got != "make bench" {
		t.Errorf("defaults: %q", got)
	}
	if got := command(s, true); got != "make bench-docs" {
		t.Errorf("defaults, tracked documents: %q", got)
	}
	s.Rounds, s.Duration, s.PostRate, s.VariantTags = 7, 2*time.Second, 100, []string{"netgo"}
	if got := command(s, false); got != "ROUNDS=7 DURATION=2s POST_RATE=100 HANDLER_TAGS='netgo' make bench" {
		t.Errorf("changed: %q", got)
	}
}

// TestOutputs: by default a run writes under bench/out, which git
// ignores, so that make bench never rewrites the tracked docs/; only
// -update-docs (make bench-docs) writes there.
func TestOutputs(t *testing.T) {
	root := filepath.FromSlash("/repo")
	out := filepath.Join(root, "bench", "out")
	tests := []struct {
		name              string
		docs, results     string
		updateDocs        bool
		wantDocs, wantRes string
	}{
		{name: "defaults", wantDocs: out, wantRes: filepath.Join(out, "results.json")},
		{name: "tracked documents", updateDocs: true, wantDocs: filepath.Join(root, "docs"), wantRes: filepath.Join(out, "results.json")},
		{name: "flags win", docs: "d", results: "r.json", updateDocs: true, wantDocs: "d", wantRes: "r.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, res := outputs(root, tt.docs, tt.results, tt.updateDocs)
			if docs != tt.wantDocs || res != tt.wantRes {
				t.Errorf("outputs = %s, %s; want %s, %s", docs, res, tt.wantDocs, tt.wantRes)
			}
		})
	}
}

// TestOutDirIgnored: git ignores what a default run writes, and tracks
// what make bench-docs writes.
func TestOutDirIgnored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := filepath.Join("..", "..", "..")
	ignored := func(p string) bool {
		t.Helper()
		cmd := exec.Command("git", "check-ignore", "-q", "--no-index", p)
		cmd.Dir = root
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return true
		case errors.As(err, &ee) && ee.ExitCode() == 1:
			return false
		}
		t.Skipf("git check-ignore: %v (not a checkout?)", err)
		return false
	}
	for _, f := range []string{"benchmarks.md", "benchmarks.svg", "results.json"} {
		if p := outDir + "/" + f; !ignored(p) {
			t.Errorf("git does not ignore %s: a default make bench would leave it to be committed", p)
		}
	}
	for _, f := range []string{"benchmarks.md", "benchmarks.svg"} {
		if p := docsDir + "/" + f; ignored(p) {
			t.Errorf("git ignores %s, which make bench-docs writes to be committed", p)
		}
	}
}

func TestEnvSettings(t *testing.T) {
	t.Setenv("ROUNDS", "3")
	t.Setenv("DURATION", "nonsense")
	var errs []error
	if n := envInt("ROUNDS", 5, &errs); n != 3 || len(errs) != 0 {
		t.Errorf("ROUNDS=3: %d %v", n, errs)
	}
	if d := envDuration("DURATION", time.Second, &errs); d != time.Second || len(errs) != 1 {
		t.Errorf("DURATION=nonsense: %v %v", d, errs)
	}
	if err := mainErr([]string{"-render", "x"}); err == nil || !strings.Contains(err.Error(), "DURATION") {
		t.Errorf("a bad setting does not stop the run: %v", err)
	}
}

// TestSmoke runs the whole pipeline for real with tiny settings: builds,
// npm ci, the issuer, every server's checks, one round, the documents,
// and renders them again from the saved results.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every server (-short skips)")
	}
	// The run's temporary directory, with the handlers' tasks stores, must
	// be gone afterwards.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	err := mainErr([]string{"-rounds", "1", "-duration", "300ms", "-open-duration", "300ms", "-warmup", "0s",
		"-rate", "200", "-post-rate", "100", "-conns", "4", "-docs", dir, "-json", out})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res report.Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, s := range res.Servers {
		keys[s.Key] = true
		if s.Key != report.Ceiling && s.LogLines < s.Requests*99/100 {
			t.Errorf("%s: %d log lines for %d requests", s.Name, s.LogLines, s.Requests)
		}
		if s.PeakRSSKB == 0 {
			t.Errorf("%s: no RSS", s.Name)
		}
	}
	for _, k := range []string{report.Ceiling, report.Handler, "handler-nocache", report.GoPeer, report.Node, report.TasksList, report.TasksCreate} {
		if !keys[k] {
			t.Errorf("no %s in the results", k)
		}
	}
	for _, rd := range res.Rounds {
		colds := 1
		if rd.Server == report.TasksList || rd.Server == report.TasksCreate {
			colds = 0
			// The list holds what was created before it was measured;
			// the creation's file, every task of its turn.
			if rd.StoreBytes == 0 || rd.Server == report.TasksList && rd.StoreTasks != 20 || rd.Server == report.TasksCreate && rd.StoreTasks < 1+rd.Requests {
				t.Errorf("%s: store %d bytes, %d tasks", rd.Server, rd.StoreBytes, rd.StoreTasks)
			}
		}
		if rd.Requests == 0 || rd.Errors != 0 || rd.OpenOK != rd.OpenRequests || rd.OpenRequests == 0 || len(rd.ColdStarts) != colds || rd.P99 == 0 || rd.OpenP99Sched < rd.OpenP99 {
			t.Errorf("round %+v", rd)
		}
	}
	// (go build and npm use TMPDIR too: only the run's own directory counts.)
	if left, _ := filepath.Glob(filepath.Join(tmp, "entrafunc-bench-*")); len(left) != 0 {
		t.Errorf("the run left %v behind", left)
	}
	if rows := res.Tasks(); len(rows) != 2 {
		t.Errorf("%d Tasks rows", len(rows))
	}
	md, err := os.ReadFile(filepath.Join(dir, "benchmarks.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(md), "# Benchmarks") || !strings.Contains(string(md), "](benchmarks.svg)") || !strings.Contains(string(md), "## Targets") {
		t.Errorf("benchmarks.md:\n%s", md)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "benchmarks.svg"))
	if err != nil || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("benchmarks.svg: %v", err)
	}
	again := filepath.Join(dir, "again")
	if err := mainErr([]string{"-render", out, "-docs", again}); err != nil {
		t.Fatal(err)
	}
	md2, err := os.ReadFile(filepath.Join(again, "benchmarks.md"))
	if err != nil || string(md2) != string(md) {
		t.Errorf("rendering the saved results again gives another document (%v)", err)
	}
}

func TestReadWhy(t *testing.T) {
	root := t.TempDir()
	if why, err := readWhy(root); err != nil || why != nil {
		t.Fatalf("no file: %v %v", why, err)
	}
	os.MkdirAll(filepath.Join(root, "bench"), 0o755)
	os.WriteFile(filepath.Join(root, whyFile), []byte("# comment\n\ncold start | the disk was slow\n"), 0o644)
	why, err := readWhy(root)
	if err != nil || why["cold start"] != "the disk was slow" || len(why) != 1 {
		t.Errorf("why = %v, %v", why, err)
	}
	os.WriteFile(filepath.Join(root, whyFile), []byte("no separator\n"), 0o644)
	if _, err := readWhy(root); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("a line without | is not refused: %v", err)
	}
}

func TestWhyNamesTargets(t *testing.T) {
	// Every line of the repository's why.txt names a target the report has.
	why, err := readWhy(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tg := range (&report.Results{Settings: report.Settings{Rate: defaultRate}}).Targets() {
		names[tg.Name] = true
	}
	for name := range why {
		if !names[name] {
			t.Errorf("%s names %q, which is no target", whyFile, name)
		}
	}
}
