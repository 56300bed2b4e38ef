package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture is a run of three rounds with made-up figures chosen so that
// some targets are met and some missed.
func fixture() *Results {
	r := &Results{
		Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Took:    4*time.Minute + 31*time.Second,
		Command: "make bench",
		Settings: Settings{Rounds: 3, Duration: 5 * time.Second, OpenDuration: 4 * time.Second, Warmup: time.Second,
			Conns: 64, Rate: 2000, ColdStarts: 1, VariantTags: []string{"stdslog"}},
		Machine: Machine{CPU: "AMD EPYC", Cores: 2, Memory: "24.0 GiB", OS: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0", Go: "go1.26.8", Node: "v20.20.2"},
		Servers: []Server{
			{Key: Ceiling, Name: "ceiling", What: "bare net/http", PeakRSSKB: 12000, LogLines: 0, Requests: 1000},
			{Key: Handler, Name: "handler", What: "this handler", PeakRSSKB: 21000, LogLines: 1010, Requests: 1000},
			{Key: "handler-nocache", Name: "handler, cache off", What: "AUTH_TOKEN_CACHE_SIZE=0", PeakRSSKB: 22000, LogLines: 1000, Requests: 1000},
			{Key: GoPeer, Name: "Go peer", What: "chi + jwt + keyfunc", PeakRSSKB: 15000, LogLines: 1000, Requests: 1000},
			{Key: Node, Name: "Node peer", What: "express + jose", PeakRSSKB: 110000, LogLines: 1000, Requests: 1000},
		},
		Notes: []string{"a note"},
	}
	base := map[string]float64{Ceiling: 90000, Handler: 70000, "handler-nocache": 22000, GoPeer: 25000, Node: 6000}
	for round := 1; round <= 3; round++ {
		f := 1 + 0.05*float64(round-2) // the machine drifts
		for _, s := range r.Servers {
			ms := time.Duration(round) * time.Millisecond / 10
			r.Rounds = append(r.Rounds, Round{
				Round: round, Server: s.Key, RPS: base[s.Key] * f, P50: 800*time.Microsecond + ms, P99: 5*time.Millisecond + ms,
				Requests: int64(base[s.Key] * 5), Errors: int64(round - 1), RSSKB: s.PeakRSSKB - 500,
				OpenP50: 300 * time.Microsecond, OpenP99: 900*time.Microsecond + ms, OpenP99Sched: time.Millisecond + ms,
				OpenRequests: 8000, OpenOK: 8000 - int64(round-1), OpenLateness: 2 * time.Millisecond,
				ColdStarts: []time.Duration{time.Duration(10+round) * time.Millisecond * time.Duration(1+len(s.Key)%3)},
			})
		}
	}
	return r
}

func TestMarkdownGolden(t *testing.T) {
	got := fixture().Markdown("benchmarks.svg")
	golden := filepath.Join("testdata", "benchmarks.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./internal/report -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("Markdown differs from %s (go test ./internal/report -update rewrites it):\n%s", golden, got)
	}
}

// TestMarkdownProperties checks what the golden file could hide: the
// chart comes first, every server has a row, and each target a verdict
// that agrees with its numbers.
func TestMarkdownProperties(t *testing.T) {
	r := fixture()
	md := r.Markdown("benchmarks.svg")
	first := strings.Index(md, "![")
	if first < 0 || first > strings.Index(md, "|") || !strings.Contains(md, "](benchmarks.svg)") {
		t.Error("the chart is not the first thing after the title")
	}
	for _, s := range r.Servers {
		if !strings.Contains(md, "| "+s.Name+" | ") {
			t.Errorf("no row for %s", s.Name)
		}
	}
	for _, tg := range r.Targets() {
		row := ""
		for _, l := range strings.Split(md, "\n") {
			if strings.HasPrefix(l, "| "+tg.Name+" |") {
				row = l
			}
		}
		if row == "" {
			t.Errorf("no row for target %s", tg.Name)
			continue
		}
		if tg.Met() != strings.Contains(row, "| met |") || tg.Met() == strings.Contains(row, WhyPlaceholder) {
			t.Errorf("target %s (met=%v): row %q", tg.Name, tg.Met(), row)
		}
	}
}

func TestTargetsAndRatios(t *testing.T) {
	r := fixture()
	rt := r.RatioOf(Handler, Ceiling)
	// Every round has the same 70k/90k ratio, whatever the drift.
	if math.Abs(rt.Median-70.0/90) > 1e-9 || len(rt.PerRound) != 3 || math.Abs(rt.Lo-rt.Hi) > 1e-9 {
		t.Errorf("handler/ceiling %+v", rt)
	}
	if rt := r.RatioOf(Handler, "nobody"); !math.IsNaN(rt.Median) || !rt.ToMissing {
		t.Errorf("ratio to a missing server: %+v", rt)
	}
	byName := map[string]Target{}
	for _, tg := range r.Targets() {
		byName[tg.Name] = tg
	}
	check := func(name string, met bool, measured float64) {
		t.Helper()
		tg, ok := byName[name]
		if !ok {
			t.Fatalf("no target %q", name)
		}
		if tg.Met() != met || math.Abs(tg.Measured-measured) > 1e-6 {
			t.Errorf("%s: met=%v measured=%v, want %v %v", name, tg.Met(), tg.Measured, met, measured)
		}
	}
	check("authenticated Hello / ceiling", false, 70.0/90)
	check("authenticated Hello / Go peer", true, 70000.0/25000)
	check("authenticated Hello / Node peer", true, 70000.0/6000)
	check("p99 at 2,000 req/s", true, 1.1)
	check("RSS under load", true, 20500*1024/1e6)
	abs, rel := byName["authenticated Hello / ceiling"].Shortfall()
	if math.Abs(abs-(0.8-70.0/90)) > 1e-9 || math.Abs(rel-abs/0.8) > 1e-9 {
		t.Errorf("shortfall %v %v", abs, rel)
	}
	if a, _ := byName["RSS under load"].Shortfall(); a != 0 {
		t.Errorf("a met target's shortfall is %v", a)
	}
	// A figure never measured is missed, not met.
	r.Servers = r.Servers[:1]
	for _, tg := range r.Targets() {
		if tg.Met() {
			t.Errorf("%s met without a handler", tg.Name)
		}
	}
}

func TestResultsJSONRoundTrip(t *testing.T) {
	r := fixture()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Markdown("x.svg") != r.Markdown("x.svg") {
		t.Error("a saved run renders differently")
	}
}

func TestChart(t *testing.T) {
	svg, err := fixture().Chart()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		os.WriteFile(filepath.Join("testdata", "benchmarks.svg"), svg, 0o644)
	}
	// Well-formed XML whose text names every server and panel.
	var texts []string
	d := xml.NewDecoder(bytes.NewReader(svg))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(el)); s != "" {
				texts = append(texts, s)
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"ceiling", "handler", "Node peer", "requests/s", "p99", "cold start", "RSS", "70,000"} {
		if !strings.Contains(all, want) {
			t.Errorf("chart text has no %q", want)
		}
	}
	if len(svg) > 200<<10 {
		t.Errorf("chart is %d bytes: fonts embedded?", len(svg))
	}
}
