package main

import (
	"cmp"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

const versionUsage = `usage: handler version

Print the module version, the VCS revision (-dirty when built from a
modified tree) with its commit time, and the Go version of this build.
The server's "listening" log line carries the same string.
`

func version(args []string, stdout, stderr io.Writer) error {
	f := newFlags("version", versionUsage, stdout, stderr)
	if help, err := f.parse(args); help || err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, "handler", buildVersion(readBuildInfo()))
	return err
}

// readBuildInfo is the binary's build information, or nil when it has none.
func readBuildInfo() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

// buildVersion says which build this is, such as
// "v1.2.0, revision 4f2a…-dirty, committed 2025-06-01T10:00:00Z, go1.26.1".
// A build outside a module or a repository still says what it can:
// "(devel), revision unknown, go1.26.1".
func buildVersion(bi *debug.BuildInfo) string {
	ver, rev, committed, dirty, goVersion := "(devel)", "unknown", "", false, runtime.Version()
	if bi != nil {
		if bi.Main.Version != "" {
			ver = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = cmp.Or(s.Value, rev)
			case "vcs.time":
				committed = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := ver + ", revision " + rev
	if dirty {
		out += "-dirty"
	}
	if committed != "" {
		out += ", committed " + committed
	}
	return out + ", " + goVersion
}
