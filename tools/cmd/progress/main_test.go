package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	const in = `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:1: quiet\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.50s)\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}
{"Action":"output","Package":"p","Test":"TestB/one","Output":"    b_test.go:7: got 1, want 2\n"}
{"Action":"output","Package":"p","Test":"TestB/one","Output":"    --- FAIL: TestB/one (0.10s)\n"}
{"Action":"fail","Package":"p","Test":"TestB/one","Elapsed":0.1}
{"Action":"pass","Package":"p","Test":"TestB/two","Elapsed":0.1}
{"Time":"2026-01-01T00:00:00Z","Action":"run","Package":"p","Test":"TestP"}
{"Time":"2026-01-01T00:00:03.5Z","Action":"pass","Package":"p","Test":"TestP","Elapsed":0}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- FAIL: TestB (0.20s)\n"}
{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0.2}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: no node\n"}
{"Action":"skip","Package":"p","Test":"TestC","Elapsed":0}
not json
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"fail","Package":"p","Elapsed":1.5}
`
	var out strings.Builder
	if code := run(strings.NewReader(in), &out); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := `--- PASS: TestA (0.50s)
--- PASS: TestP (3.50s)
--- FAIL: TestB (0.20s)
    b_test.go:7: got 1, want 2
    --- FAIL: TestB/one (0.10s)
--- SKIP: TestC (0.00s)
    c_test.go:3: no node
not json
FAIL
FAIL	p	1.500s
`
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestRunPasses(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code int
	}{
		{`{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}` + "\n" + `{"Action":"pass","Package":"p","Elapsed":0.6}` + "\n", 0},
		// go test died before the package's result.
		{`{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}` + "\n", 1},
		{`{"ImportPath":"p.test","Action":"build-output","Output":"x.go:1: undefined: y\n"}` + "\n" +
			`{"ImportPath":"p.test","Action":"build-fail"}` + "\n" + `{"Action":"fail","Package":"p","Elapsed":0}` + "\n", 1},
	} {
		var out strings.Builder
		if code := run(strings.NewReader(tc.in), &out); code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.in, code, tc.code, out.String())
		}
	}
}
