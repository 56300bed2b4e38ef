package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// .ci/deps is what a fresh machine meets first: make test and .ci/run
// start with it. It must stay silent when everything is there, install
// what is missing only when that needs no password, and otherwise stop at
// once naming the packages. These tests run it with a PATH of stubs only,
// so that what is "installed", who runs it and what apt-get does are the
// table's choice, and no real apt-get or sudo is ever reached.

// depsCommands are the commands .ci/deps looks for, with the Debian
// package that provides each.
var depsCommands = map[string]string{
	"gcc": "gcc", "make": "make", "curl": "curl", "bash": "bash",
	"shellcheck": "shellcheck", "unzip": "unzip", "node": "nodejs", "npm": "npm",
}

// depsCase is one machine .ci/deps may meet.
type depsCase struct {
	name string
	// lacks are the commands not on PATH; the others are stubs that do
	// nothing.
	lacks []string
	// libc6 is what dpkg-query says of libc6-dev: "installed", "absent",
	// or "" for a machine without dpkg-query at all.
	libc6 string
	// uid is what id -u prints.
	uid int
	// sudo: "" for none on PATH, "nopass" for one that needs no password,
	// "password" for one that would ask.
	sudo string
	// apt: "" for an apt-get that installs what it is asked, "none" for no
	// apt-get, "noop" for one that ends well and installs nothing, "fail"
	// for one whose install fails (exit 100, as apt-get's errors do).
	apt string

	wantCode int
	// wantCalls are the calls to apt-get, a line each: sudo's prefix if it
	// went through sudo, the arguments, and DEBIAN_FRONTEND in brackets.
	wantCalls []string
	// wantStderr must each be in what it printed; an empty list means it
	// printed nothing at all.
	wantStderr []string
}

const depsInstall = "install -y --no-install-recommends"

var depsCases = []depsCase{
	{name: "everything there", libc6: "installed", uid: 1000, sudo: "password", wantCode: 0},
	{name: "everything there, as root", libc6: "installed", uid: 0, wantCode: 0},
	{name: "no dpkg-query (not Debian): gcc stands for its headers", libc6: "", uid: 1000, apt: "none", wantCode: 0},
	{
		name: "a fresh machine, as root", lacks: []string{"shellcheck"}, libc6: "installed", uid: 0,
		wantCode:   0,
		wantCalls:  []string{"apt-get update []", "apt-get " + depsInstall + " shellcheck [noninteractive]"},
		wantStderr: []string{"installing from Debian what make test needs: shellcheck\n"},
	},
	{
		name: "several missing, in the table's order, libc6-dev last", lacks: []string{"node", "shellcheck", "gcc"}, libc6: "absent", uid: 0,
		wantCode:   0,
		wantCalls:  []string{"apt-get update []", "apt-get " + depsInstall + " gcc shellcheck nodejs libc6-dev [noninteractive]"},
		wantStderr: []string{"needs: gcc shellcheck nodejs libc6-dev\n"},
	},
	{
		name: "missing, through sudo without a password", lacks: []string{"unzip", "npm"}, libc6: "installed", uid: 1000, sudo: "nopass",
		wantCode:   0,
		wantCalls:  []string{"sudo apt-get update []", "sudo apt-get " + depsInstall + " unzip npm [noninteractive]"},
		wantStderr: []string{"needs: unzip npm\n"},
	},
	{
		name: "missing, and sudo would ask for a password", lacks: []string{"shellcheck"}, libc6: "installed", uid: 1000, sudo: "password",
		wantCode:   1,
		wantStderr: []string{"make test needs what this machine lacks: shellcheck\n", "sudo would ask for a password", "sudo apt-get install shellcheck\n"},
	},
	{
		name: "missing, not root and no sudo", lacks: []string{"curl"}, libc6: "installed", uid: 1000,
		wantCode:   1,
		wantStderr: []string{"lacks: curl\n", "needs root", "sudo apt-get install curl\n"},
	},
	{
		name: "missing, and no apt-get (not Debian)", lacks: []string{"shellcheck", "unzip"}, libc6: "", uid: 0, apt: "none",
		wantCode:   1,
		wantStderr: []string{"lacks: shellcheck unzip\n", "no apt-get"},
	},
	{
		name: "apt-get ends well, yet installs nothing", lacks: []string{"shellcheck"}, libc6: "installed", uid: 0, apt: "noop",
		wantCode:   1,
		wantCalls:  []string{"apt-get update []", "apt-get " + depsInstall + " shellcheck [noninteractive]"},
		wantStderr: []string{"ended, yet these are still missing", "lacks: shellcheck\n"},
	},
	{
		name: "apt-get install fails", lacks: []string{"make"}, libc6: "installed", uid: 0, apt: "fail",
		wantCode:  100,
		wantCalls: []string{"apt-get update []", "apt-get " + depsInstall + " make [noninteractive]"},
	},
}

func TestCIDeps(t *testing.T) {
	t.Parallel()
	bash := lookBash(t)
	chmod, err := exec.LookPath("chmod")
	if err != nil {
		t.Skip("chmod is not on PATH")
	}
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skip("env is not on PATH")
	}
	script, err := filepath.Abs(filepath.Join("..", ".ci", "deps"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range depsCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stub := depsStubs(t, tc, chmod, env)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, script)
			// Nothing but the stubs: a real apt-get, sudo or dpkg-query is
			// never reached, and a command the script runs without a stub
			// fails the case.
			cmd.Env = []string{"PATH=" + stub, "LC_ALL=C"}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code := 0
			if err := cmd.Run(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatal(err)
				}
				code = exit.ExitCode()
			}
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", code, tc.wantCode, &stderr)
			}
			if stdout.Len() > 0 {
				t.Errorf("printed on stdout (only apt-get's own output belongs there):\n%s", &stdout)
			}
			if len(tc.wantStderr) == 0 && stderr.Len() > 0 && tc.wantCode == 0 {
				t.Errorf("printed on stderr when nothing was missing:\n%s", &stderr)
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, &stderr)
				}
			}
			calls, err := os.ReadFile(filepath.Join(stub, "calls"))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(string(calls), "\n"), "\n")
			if len(calls) == 0 {
				got = nil
			}
			if !slices.Equal(got, tc.wantCalls) {
				t.Errorf("apt-get calls:\n%q\nwant:\n%q", got, tc.wantCalls)
			}
		})
	}
}

// depsStubs makes the folder that is the whole PATH of one case: a stub
// for each command the machine has, and id, sudo, dpkg-query and apt-get
// as the case says. apt-get records each call in calls and, unless told
// otherwise, "installs" a package by adding its command's stub (or, for
// libc6-dev, by making dpkg-query say it is installed).
func depsStubs(t *testing.T, tc depsCase, chmod, env string) string {
	t.Helper()
	stub := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(stub, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for cmd := range depsCommands {
		if !slices.Contains(tc.lacks, cmd) {
			write(cmd, "exit 0\n")
		}
	}
	if err := os.Symlink(env, filepath.Join(stub, "env")); err != nil {
		t.Fatal(err)
	}
	write("id", fmt.Sprintf("[ \"$1\" = -u ] || exit 2\necho %d\n", tc.uid))

	marker := filepath.Join(stub, "libc6-dev.installed")
	if tc.libc6 == "installed" {
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if tc.libc6 != "" {
		write("dpkg-query", fmt.Sprintf("if [ -e '%s' ]; then printf 'install ok installed'; else echo 'dpkg-query: no packages found matching libc6-dev' >&2; exit 1; fi\n", marker))
	}

	calls := filepath.Join(stub, "calls")
	switch tc.sudo {
	case "":
	case "nopass", "password":
		probe := "exit 0"
		if tc.sudo == "password" {
			probe = "echo 'sudo: a password is required' >&2; exit 1"
		}
		write("sudo", fmt.Sprintf("[ \"$1\" = -n ] || { echo 'sudo: stub called without -n' >&2; exit 3; }\nshift\nif [ \"$1\" = true ]; then %s; fi\nprintf 'sudo ' >> '%s'\nexec \"$@\"\n", probe, calls))
	default:
		t.Fatalf("sudo %q", tc.sudo)
	}

	// Each install argument that names a package becomes its command's
	// stub, or libc6-dev's marker.
	var install strings.Builder
	for cmd, pkg := range depsCommands {
		fmt.Fprintf(&install, "\t\t%s) printf '#!/bin/sh\\n' > '%s'; '%s' +x '%s' ;;\n", pkg, filepath.Join(stub, cmd), chmod, filepath.Join(stub, cmd))
	}
	fmt.Fprintf(&install, "\t\tlibc6-dev) : > '%s' ;;\n", marker)
	record := fmt.Sprintf("printf 'apt-get %%s [%%s]\\n' \"$*\" \"$DEBIAN_FRONTEND\" >> '%s'\n", calls)
	switch tc.apt {
	case "none":
	case "":
		write("apt-get", record+"[ \"$1\" = install ] || exit 0\nfor p in \"$@\"; do\n\tcase \"$p\" in\n"+install.String()+"\tesac\ndone\n")
	case "noop":
		write("apt-get", record+"exit 0\n")
	case "fail":
		write("apt-get", record+"[ \"$1\" = install ] || exit 0\necho 'E: Unable to locate package' >&2\nexit 100\n")
	default:
		t.Fatalf("apt %q", tc.apt)
	}
	return stub
}
