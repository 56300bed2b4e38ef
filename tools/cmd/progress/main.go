// Command progress reads `go test -json` on standard input and prints one
// line per top-level test as it ends, and each package's result, so that a
// long test package shows that it is moving without the noise of -v. A
// test that fails is printed with everything it and its subtests logged;
// a skipped test with its reason. Lines that are not JSON (the go
// command's own messages) pass through.
//
// It exits 1 when a test, a package or a build failed, or when the input
// ended without a package's result (go test died): the Makefile's shell
// has no pipefail, so this exit status is the pipe's.
//
//	go test -json ./e2e | go run ./cmd/progress
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

// event is one line of test2json's output (go doc test2json).
type event struct {
	Time       time.Time
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string // build-output and build-fail
}

// run copies in's events to out as progress lines and returns the exit
// status.
func run(in io.Reader, out io.Writer) int {
	// Output by package, then by top-level test ("" for the package's own
	// lines), subtests' lines with their parent's.
	logs := map[string]map[string][]string{}
	// When each top-level test started: a test whose subtests run in
	// parallel reports only its own function's time, not theirs.
	started := map[string]time.Time{}
	failed, results := false, 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
			continue
		case "build-fail":
			failed = true
			continue
		case "output":
			if logs[e.Package] == nil {
				logs[e.Package] = map[string][]string{}
			}
			logs[e.Package][top] = append(logs[e.Package][top], e.Output)
			continue
		case "run":
			if e.Test == top {
				started[e.Package+" "+top] = e.Time
			}
			continue
		case "pass", "fail", "skip":
		default:
			continue
		}
		switch {
		case e.Test == "":
			// The package's result.
			results++
			word := map[string]string{"pass": "ok  ", "fail": "FAIL", "skip": "?   "}[e.Action]
			if e.Action == "fail" {
				failed = true
				printLog(out, logs[e.Package][""])
			}
			fmt.Fprintf(out, "%s\t%s\t%.3fs\n", word, e.Package, e.Elapsed)
			delete(logs, e.Package)
		case e.Test == top:
			// A top-level test's result.
			elapsed := e.Elapsed
			if begun, ok := started[e.Package+" "+top]; ok && !begun.IsZero() && !e.Time.IsZero() {
				elapsed = max(elapsed, e.Time.Sub(begun).Seconds())
			}
			delete(started, e.Package+" "+top)
			fmt.Fprintf(out, "--- %s: %s (%.2fs)\n", strings.ToUpper(e.Action), e.Test, elapsed)
			switch e.Action {
			case "fail":
				failed = true
				printLog(out, logs[e.Package][top])
			case "skip":
				printLog(out, logs[e.Package][top])
			}
			delete(logs[e.Package], top)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "progress: reading go test -json:", err)
		return 1
	}
	if results == 0 {
		fmt.Fprintln(out, "progress: go test ended without a package's result")
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

// printLog prints a test's logged lines, without the === lines that say
// which test runs, pauses or continues, and without its own --- result
// line, already printed.
func printLog(out io.Writer, lines []string) {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		fmt.Fprint(out, l)
	}
}
