package dockerfile

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"go/version"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// The image cannot be built here (no Docker daemon, and no registry to pull
// the base images from), so the Dockerfile is parsed with BuildKit's own
// parser and held to what the repository says the image must contain.

// scriptRoot is where the Functions host images look for the app
// (ENV AzureWebJobsScriptRoot in the images of github.com/Azure/azure-functions-docker); AzureWebJobsScriptRoot must say the same.
const scriptRoot = "/home/site/wwwroot"

// project is what the checks compare the Dockerfile with, read from the
// repository so that a change there (a new function, a new package, another
// executable name) is checked without editing this file.
type project struct {
	root string
	// executable is host.json's customHandler.description.defaultExecutablePath.
	executable string
	// functions are the folders holding a function.json.
	// TestFunctionFoldersMatchRoutes (tools/layout_test.go) holds them equal to
	// api.Routes(), so the folders stand for the routes here.
	functions []string
	// goVersion is go.mod's go line.
	goVersion string
	// packages are the main module's packages the handler is built from,
	// with the files the compiler reads, relative to root.
	packages []goPackage
	// ignore is .dockerignore, as BuildKit reads it.
	ignore *patternmatcher.PatternMatcher
}

type goPackage struct {
	Dir   string
	Files []string
}

func loadProject(t *testing.T) *project {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	p := &project{root: root}

	var host struct {
		CustomHandler struct {
			Description struct{ DefaultExecutablePath string }
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &host); err != nil {
		t.Fatalf("host.json: %v", err)
	}
	p.executable = host.CustomHandler.Description.DefaultExecutablePath
	if p.executable == "" {
		t.Fatal("host.json names no customHandler.description.defaultExecutablePath")
	}

	matches, err := filepath.Glob(filepath.Join(root, "*", "function.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		p.functions = append(p.functions, filepath.Base(filepath.Dir(m)))
	}
	if len(p.functions) == 0 {
		t.Fatal("no */function.json at the repository root")
	}

	b, err = os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	p.goVersion = string(m[1])

	p.packages = handlerPackages(t, root)

	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	if p.ignore, err = patternmatcher.New(patterns); err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	return p
}

// handlerPackages asks the go command which of the main module's packages
// the linux/amd64 handler is built from: the build stage must copy each of
// them, or docker build fails on a package added later.
func handlerPackages(t *testing.T, root string) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}{{end}}`,
		"./cmd/handler")
	cmd.Dir = root
	// The image's build, not whatever this shell is set up to cross-compile.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/handler: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []goPackage
	for line := range strings.Lines(string(out)) {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) != 3 {
			continue
		}
		dir, err := filepath.Rel(root, parts[0])
		if err != nil {
			t.Fatal(err)
		}
		pkg := goPackage{Dir: filepath.ToSlash(dir)}
		for _, files := range parts[1:] {
			for f := range strings.SplitSeq(files, ",") {
				if f != "" {
					pkg.Files = append(pkg.Files, path.Join(pkg.Dir, filepath.ToSlash(f)))
				}
			}
		}
		pkgs = append(pkgs, pkg)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no main-module packages in ./cmd/handler")
	}
	return pkgs
}

// excluded reports whether .dockerignore keeps rel (slash-separated, from
// the context root) out of the build context.
func (p *project) excluded(rel string) bool {
	ok, err := p.ignore.MatchesOrParentMatches(filepath.FromSlash(rel))
	return err == nil && ok
}

// sensitive names the files no image may be given: local settings, keys and
// .env files.
func sensitive(name string) bool {
	base := path.Base(name)
	return base == "local.settings.json" || base == ".env" || strings.HasPrefix(base, ".env.") ||
		strings.HasSuffix(base, ".pem")
}

// env is what ARG and ENV have set so far, for expanding $VAR the way the
// builder does.
type env map[string]string

func (e env) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e env) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	return keys
}

// copyOp is one COPY or ADD, with its sources as cleaned context paths
// (or paths in another stage, with from) and its destination resolved.
type copyOp struct {
	line    int
	from    string
	sources []string
	dest    string // absolute; ends in "/" when it is a directory
	chmod   string
}

// target is where src lands: dest itself, or src's base name inside it
// when dest is a directory or there are several sources.
func (c copyOp) target(src string) string {
	if strings.HasSuffix(c.dest, "/") || len(c.sources) > 1 {
		return path.Join(c.dest, path.Base(src))
	}
	return c.dest
}

type goBuild struct {
	line     int
	env      env
	output   string
	trimpath bool
	packages []string
}

type runStep struct {
	line int
	cmd  string
}

type stageInfo struct {
	index  int
	final  bool
	name   string
	image  string // FROM, with ARGs expanded
	env    env
	copies []copyOp
	builds []goBuild
	runs   []runStep
	cmd    bool // CMD or ENTRYPOINT
}

// moreDockerfileChecks run first in checkDockerfile, each returning its
// problems: with the buildkit tag, buildkit_check_test.go adds BuildKit's
// conversion and the lint rules that run there.
var moreDockerfileChecks []func(src []byte) []string

// checkDockerfile returns every way src departs from what the image needs;
// none means it is fine. The checks read p, never the Dockerfile on disk,
// so that the mutation tests can feed it altered text.
func checkDockerfile(src []byte, p *project) (problems []string) {
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, check := range moreDockerfileChecks {
		problems = append(problems, check(src)...)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return append(problems, "parse: "+err.Error())
	}
	// The lint rules BuildKit applies while reading the instructions
	// (FromAsCasing, StageNameCasing, MaintainerDeprecated,
	// InvalidDefinitionDescription): a warning in every docker build is a
	// problem here. The parser's own warnings too (an empty continuation
	// line).
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil {
			line = w.Location.Start.Line
		}
		fail("line %d: BuildKit parser: %s", line, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		fail("line %d: BuildKit check %s: %s", line, rule, msg)
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return append(problems, "instructions: "+err.Error())
	}
	lex := shell.NewLex(res.EscapeToken)
	global := env{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				global[kv.Key] = *kv.Value
			}
		}
	}
	expand := func(word string, e env) string {
		out, _, err := lex.ProcessWord(word, e)
		if err != nil {
			fail("cannot expand %q: %v", word, err)
			return word
		}
		return out
	}

	var infos []*stageInfo
	for i, st := range stages {
		info := &stageInfo{index: i, name: st.Name, env: env{}}
		info.image = expand(st.BaseName, global)
		// A stage built FROM another stage starts with its environment.
		for _, prev := range infos {
			if prev.name != "" && strings.EqualFold(prev.name, info.image) {
				for k, v := range prev.env {
					info.env[k] = v
				}
			}
		}
		workdir := "/"
		for _, c := range st.Commands {
			line := 0
			if loc := c.Location(); len(loc) > 0 {
				line = loc[0].Start.Line
			}
			switch c := c.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					if v, ok := global[kv.Key]; ok {
						info.env[kv.Key] = v
					}
					if kv.Value != nil {
						info.env[kv.Key] = expand(*kv.Value, info.env)
					}
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					info.env[kv.Key] = expand(kv.Value, info.env)
				}
			case *instructions.WorkdirCommand:
				workdir = resolve(workdir, expand(c.Path, info.env))
			case *instructions.CopyCommand:
				info.copies = append(info.copies, newCopy(line, expand(c.From, info.env), c.SourcePaths, c.DestPath, c.Chmod, workdir, func(s string) string { return expand(s, info.env) }))
			case *instructions.AddCommand:
				info.copies = append(info.copies, newCopy(line, "", c.SourcePaths, c.DestPath, c.Chmod, workdir, func(s string) string { return expand(s, info.env) }))
			case *instructions.RunCommand:
				cmdline := strings.Join(c.CmdLine, " ")
				info.runs = append(info.runs, runStep{line, cmdline})
				builds, err := parseGoBuilds(lex, cmdline, info.env, workdir)
				if err != nil {
					fail("line %d: RUN: %v", line, err)
				}
				for _, b := range builds {
					b.line = line
					info.builds = append(info.builds, b)
				}
			case *instructions.CmdCommand, *instructions.EntrypointCommand:
				info.cmd = true
			}
		}
		infos = append(infos, info)
	}

	if len(infos) > 0 {
		infos[len(infos)-1].final = true
	}

	// Secrets baked into an image stay in its history and config for
	// anyone who can pull it.
	for _, info := range infos {
		for k := range info.env {
			u := strings.ToUpper(k)
			if strings.Contains(u, "SECRET") || strings.Contains(u, "PASSWORD") ||
				strings.Contains(u, "CONNECTIONSTRING") || u == "AZUREWEBJOBSSTORAGE" {
				fail("stage %s sets %s: settings with secrets are given at run time, not built in", info.label(), k)
			}
		}
	}

	if len(infos) < 2 {
		fail("%d stage(s): want a build stage FROM golang and a final stage FROM mcr.microsoft.com/azure-functions/base", len(infos))
		if len(infos) == 0 {
			return problems
		}
	}
	final := infos[len(infos)-1]
	var builders []*stageInfo
	for _, info := range infos[:len(infos)-1] {
		if isGolang(info.image) {
			builders = append(builders, info)
		}
	}
	if len(builders) == 0 {
		fail("no build stage FROM golang")
	}

	// Base images: tagged, never latest, the right ones.
	for _, info := range infos {
		if stageNamed(infos, info.image) != nil {
			continue
		}
		if _, tag, ok := splitTag(info.image); !ok || tag == "latest" {
			fail("stage %s is FROM %s: name a tag other than latest, so rebuilds stay on the same major line", info.label(), info.image)
		}
	}
	if repo, tag, _ := splitTag(final.image); repo != "mcr.microsoft.com/azure-functions/base" || !(tag == "4" || strings.HasPrefix(tag, "4-") || strings.HasPrefix(tag, "4.")) {
		fail("final stage is FROM %s: want mcr.microsoft.com/azure-functions/base:4, the Functions v4 host without a language worker, for custom handlers", final.image)
	}
	for _, b := range builders {
		_, tag, _ := splitTag(b.image)
		v := tag
		if i := strings.IndexAny(v, "-"); i >= 0 {
			v = v[:i]
		}
		if !regexp.MustCompile(`^1\.\d+(\.\d+)?$`).MatchString(v) {
			fail("build stage is FROM %s: name the Go version in the tag (golang:1.N-...), so that it can be checked against go.mod", b.image)
		} else if version.Compare("go"+v, "go"+p.goVersion) < 0 {
			fail("build stage is FROM %s: older than go.mod's go %s, and the golang image does not download toolchains (GOTOOLCHAIN=local)", b.image, p.goVersion)
		}
	}

	// Every stage: what it copies from the build context, and from where.
	for _, info := range infos {
		isFinal := info == final
		for _, c := range info.copies {
			if c.from != "" {
				// An unknown name is not an error to BuildKit: it is taken
				// for an image on Docker Hub, and the build pulls it.
				if !slices.ContainsFunc(infos[:info.index], func(s *stageInfo) bool { return s.refersTo(c.from) }) && !strings.ContainsAny(c.from, ":/@") {
					fail("line %d: COPY --from=%s names no earlier stage", c.line, c.from)
				}
				continue
			}
			for _, s := range c.sources {
				problems = append(problems, checkSource(p, info, c, s, isFinal)...)
			}
		}
	}

	// The build: one go build of ./cmd/handler, static, linux/amd64,
	// trimmed, written to the path the host runs.
	exe := path.Join(scriptRoot, p.executable)
	var build *goBuild
	var builder *stageInfo
	for _, info := range builders {
		for i := range info.builds {
			if slices.Contains(info.builds[i].packages, "./cmd/handler") {
				if build != nil {
					fail("line %d: a second go build of ./cmd/handler", info.builds[i].line)
					continue
				}
				build, builder = &info.builds[i], info
			}
		}
	}
	if build == nil {
		fail("no build stage runs go build ... ./cmd/handler")
	} else {
		if v := build.env["CGO_ENABLED"]; v != "0" {
			fail("line %d: go build runs with CGO_ENABLED=%q: want CGO_ENABLED=0, a static binary with no libc to match in the base image", build.line, v)
		}
		if v := build.env["GOOS"]; v != "linux" {
			fail("line %d: go build runs with GOOS=%q: want linux", build.line, v)
		}
		if v := build.env["GOARCH"]; v != "amd64" {
			fail("line %d: go build runs with GOARCH=%q: want amd64, the only platform the Functions host images are published for", build.line, v)
		}
		if !build.trimpath {
			fail("line %d: go build without -trimpath", build.line)
		}
		if build.output != exe {
			fail("line %d: go build -o %q: want %s, AzureWebJobsScriptRoot joined with host.json's defaultExecutablePath %q", build.line, build.output, exe, p.executable)
		}

		// The build stage must have the module files and every package
		// the handler imports, and download the module between the two,
		// so that a change in the code does not download it again.
		for _, need := range []string{"go.mod", "go.sum"} {
			if !copiesPath(builder, need) {
				fail("build stage does not copy %s", need)
			}
		}
		modLine, srcLine, dlLine := 0, 0, 0
		for _, c := range builder.copies {
			if c.from != "" {
				continue
			}
			for _, s := range c.sources {
				if s == "go.mod" || s == "." {
					modLine = cmp.Or(modLine, c.line)
				}
				if s != "go.mod" && s != "go.sum" {
					srcLine = cmp.Or(srcLine, c.line)
				}
			}
		}
		for _, r := range builder.runs {
			if strings.Contains(r.cmd, "go mod download") && r.line > modLine {
				dlLine = cmp.Or(dlLine, r.line)
			}
		}
		if modLine == 0 || dlLine == 0 || srcLine == 0 || !(modLine < dlLine && dlLine < srcLine) {
			fail("build stage: copy go.mod and go.sum, RUN go mod download, and only then copy the sources (layer caching)")
		}
		for _, pkg := range p.packages {
			if !copiesPath(builder, pkg.Dir) {
				fail("build stage does not copy %s, which the handler is built from (go list -deps ./cmd/handler)", pkg.Dir)
			}
			for _, f := range pkg.Files {
				if p.excluded(f) {
					fail(".dockerignore excludes %s, which the handler is built from", f)
				}
			}
		}
	}

	// The final stage: the host's settings, the project files, and the
	// built handler, executable, nothing else.
	if got := final.env["AzureWebJobsScriptRoot"]; got != scriptRoot {
		fail("final stage sets AzureWebJobsScriptRoot=%q: want %s, where the host looks for host.json and where go build writes the handler", got, scriptRoot)
	}
	if got := final.env["AzureFunctionsJobHost__Logging__Console__IsEnabled"]; !strings.EqualFold(got, "true") {
		fail("final stage sets AzureFunctionsJobHost__Logging__Console__IsEnabled=%q: want true, or the host's and the handler's logs do not reach the container's output", got)
	}
	if final.cmd {
		fail("final stage sets CMD or ENTRYPOINT: the base image's starts the Functions host, which starts the handler")
	}
	wantLocal := map[string]string{"host.json": path.Join(scriptRoot, "host.json")}
	for _, fn := range p.functions {
		wantLocal[fn] = path.Join(scriptRoot, fn)
	}
	gotLocal := map[string]bool{}
	exeCopied, exeExecutable := false, false
	for _, c := range final.copies {
		for _, s := range c.sources {
			if c.from == "" {
				want, ok := wantLocal[s]
				switch {
				case !ok:
					fail("line %d: final stage copies %s: only host.json and the function folders (%s) belong there", c.line, s, strings.Join(p.functions, ", "))
				case c.target(s) != want:
					fail("line %d: final stage copies %s to %s: want %s", c.line, s, c.target(s), want)
				default:
					gotLocal[s] = true
				}
				continue
			}
			if build != nil && builder != nil && builder.refersTo(c.from) && path.Clean(s) == build.output && c.target(s) == exe {
				exeCopied = true
				if executableMode(c.chmod) {
					exeExecutable = true
				}
			}
		}
	}
	for _, r := range final.runs {
		if strings.Contains(r.cmd, "chmod") && strings.Contains(r.cmd, exe) {
			exeExecutable = true
		}
	}
	for _, s := range slices.Sorted(maps.Keys(wantLocal)) {
		if !gotLocal[s] {
			fail("final stage does not copy %s to %s", s, wantLocal[s])
		}
	}
	if build != nil && builder != nil {
		if !exeCopied {
			fail("final stage does not copy the built %s from stage %s to %s", build.output, builder.label(), exe)
		} else if !exeExecutable {
			fail("final stage copies %s without making it executable: use COPY --chmod=0755 (or RUN chmod), or the host cannot start it", exe)
		}
	}
	return problems
}

func (s *stageInfo) label() string {
	if s.name != "" {
		return s.name
	}
	if s.final {
		return "final"
	}
	return strconv.Itoa(s.index)
}

// refersTo reports whether COPY --from=from names this stage.
func (s *stageInfo) refersTo(from string) bool {
	return (s.name != "" && strings.EqualFold(from, s.name)) || from == strconv.Itoa(s.index)
}

func stageNamed(infos []*stageInfo, name string) *stageInfo {
	for _, info := range infos {
		if info.name != "" && strings.EqualFold(info.name, name) {
			return info
		}
	}
	return nil
}

// copiesPath reports whether stage copies rel from the build context,
// itself or as part of a directory (or the whole context).
func copiesPath(s *stageInfo, rel string) bool {
	for _, c := range s.copies {
		if c.from != "" {
			continue
		}
		for _, src := range c.sources {
			if src == "." || src == rel || strings.HasPrefix(rel, src+"/") {
				return true
			}
			if ok, _ := path.Match(src, rel); ok {
				return true
			}
		}
	}
	return false
}

func newCopy(line int, from string, sources []string, dest, chmod, workdir string, expand func(string) string) copyOp {
	c := copyOp{line: line, from: from, chmod: chmod}
	for _, s := range sources {
		s = expand(s)
		if from == "" {
			// The context root is the root for every local source.
			s = path.Clean("/" + s)[1:]
			if s == "" {
				s = "."
			}
		} else {
			s = path.Clean("/" + s)
		}
		c.sources = append(c.sources, s)
	}
	d := expand(dest)
	dir := strings.HasSuffix(d, "/") || d == "." || strings.HasSuffix(d, "/.")
	c.dest = resolve(workdir, d)
	if dir && !strings.HasSuffix(c.dest, "/") {
		c.dest += "/"
	}
	return c
}

func resolve(workdir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(workdir, p)
}

// checkSource checks one COPY or ADD source from the build context.
func checkSource(p *project, info *stageInfo, c copyOp, s string, final bool) (problems []string) {
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("line %d: ", c.line)+fmt.Sprintf(format, args...))
	}
	if s == "." {
		// The whole context is fine in a build stage, where .dockerignore
		// decides what it holds; the final image must list what it ships.
		if final {
			fail("final stage copies the whole build context: copy host.json, the function folders and the handler by name")
		}
		return problems
	}
	if sensitive(s) {
		fail("stage %s copies %s: local settings, keys and .env files never go into an image", info.label(), s)
		return problems
	}
	matches, err := filepath.Glob(filepath.Join(p.root, filepath.FromSlash(s)))
	if err != nil || len(matches) == 0 {
		fail("stage %s copies %s, which does not exist in the repository", info.label(), s)
		return problems
	}
	inContext := false
	for _, m := range matches {
		rel, _ := filepath.Rel(p.root, m)
		rel = filepath.ToSlash(rel)
		if !p.excluded(rel) {
			inContext = true
		}
		// What a directory or pattern would bring in: checked against
		// the repository itself, not only .dockerignore, so that the
		// Dockerfile is safe on its own.
		_ = filepath.WalkDir(m, func(f string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			r, _ := filepath.Rel(p.root, f)
			r = filepath.ToSlash(r)
			switch {
			case sensitive(r):
				fail("stage %s copies %s (through %s): local settings, keys and .env files never go into an image", info.label(), r, s)
			case final && !p.excluded(r) && (strings.HasSuffix(r, ".go") || path.Base(r) == "go.mod"):
				fail("final stage copies the source file %s (through %s): only the built handler ships", r, s)
			}
			return nil
		})
	}
	if !inContext {
		fail("stage %s copies %s, which .dockerignore keeps out of the build context", info.label(), s)
	}
	return problems
}

// parseGoBuilds finds each `go build` in a RUN's shell command line, with
// the environment it runs in: the stage's ENV and ARGs and the command's
// own NAME=value prefix.
func parseGoBuilds(lex *shell.Lex, cmdline string, stageEnv env, workdir string) ([]goBuild, error) {
	words, err := lex.ProcessWords(cmdline, stageEnv)
	if err != nil {
		return nil, err
	}
	var builds []goBuild
	var cmd []string
	flush := func() {
		if b, ok := goBuildOf(cmd, stageEnv, workdir); ok {
			builds = append(builds, b)
		}
		cmd = nil
	}
	for _, w := range words {
		switch w {
		case "&&", "||", ";", "|":
			flush()
		default:
			cmd = append(cmd, w)
		}
	}
	flush()
	return builds, nil
}

// valueFlags are the go build flags that take a separate value.
var valueFlags = map[string]bool{
	"-o": true, "-C": true, "-p": true, "-tags": true, "-ldflags": true, "-gcflags": true,
	"-asmflags": true, "-gccgoflags": true, "-mod": true, "-modfile": true, "-overlay": true,
	"-pgo": true, "-pkgdir": true, "-installsuffix": true, "-toolexec": true, "-buildmode": true,
	"-compiler": true, "-covermode": true, "-coverpkg": true,
}

func goBuildOf(words []string, stageEnv env, workdir string) (goBuild, bool) {
	b := goBuild{env: env{}}
	for k, v := range stageEnv {
		b.env[k] = v
	}
	i := 0
	if i < len(words) && words[i] == "env" {
		i++
	}
	for ; i < len(words); i++ {
		k, v, ok := strings.Cut(words[i], "=")
		if !ok || !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(k) {
			break
		}
		b.env[k] = v
	}
	if len(words)-i < 2 || words[i] != "go" || words[i+1] != "build" {
		return b, false
	}
	for j := i + 2; j < len(words); j++ {
		w := words[j]
		if !strings.HasPrefix(w, "-") {
			b.packages = append(b.packages, w)
			continue
		}
		name, value, hasValue := strings.Cut(strings.Replace(w, "--", "-", 1), "=")
		if !hasValue && valueFlags[name] && j+1 < len(words) {
			j++
			value = words[j]
		}
		switch name {
		case "-o":
			b.output = resolve(workdir, value)
		case "-trimpath":
			b.trimpath = !hasValue || value == "true"
		}
	}
	return b, true
}

func isGolang(image string) bool {
	repo, _, _ := splitTag(image)
	return repo == "golang" || repo == "docker.io/library/golang" || repo == "library/golang"
}

// splitTag splits an image reference into repository and tag (ok is false
// when there is no tag).
func splitTag(image string) (repo, tag string, ok bool) {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, "", false
	}
	return image[:i], image[i+1:], true
}

// executableMode reports whether a --chmod value lets everyone execute the
// file, whichever user the host runs as.
func executableMode(chmod string) bool {
	if chmod == "" {
		return false
	}
	if m, err := strconv.ParseUint(chmod, 8, 32); err == nil {
		return m&0o111 == 0o111
	}
	// Symbolic modes, which BuildKit also accepts: +x, a+x, ugo=rx, ...
	for clause := range strings.SplitSeq(chmod, ",") {
		i := strings.IndexAny(clause, "+=")
		if i < 0 {
			continue
		}
		who, perms := clause[:i], clause[i+1:]
		all := who == "" || who == "a" || (strings.Contains(who, "u") && strings.Contains(who, "g") && strings.Contains(who, "o"))
		if all && strings.Contains(perms, "x") {
			return true
		}
	}
	return false
}

// checkDockerignore returns how .dockerignore fails to keep secrets and
// local builds out of the build context, or keeps out what the build needs.
func checkDockerignore(p *project) (problems []string) {
	for _, out := range []string{
		"local.settings.json", ".git", ".git/config", ".env", "deploy.pem", "api/key.pem",
		"handler", "handler.exe", "dist", "dist/functionapp.zip", "api/api.test",
		"node_modules", "tools/node_modules", "tools/node_modules/x/package.json",
		"go.work", "docs", "e2e", "bench",
	} {
		if !p.excluded(out) {
			problems = append(problems, fmt.Sprintf(".dockerignore lets %s into the build context", out))
		}
	}
	need := []string{"go.mod", "go.sum", "host.json"}
	for _, fn := range p.functions {
		need = append(need, fn, fn+"/function.json")
	}
	for _, pkg := range p.packages {
		need = append(need, pkg.Files...)
	}
	for _, in := range need {
		if p.excluded(in) {
			problems = append(problems, fmt.Sprintf(".dockerignore excludes %s, which the image is built from", in))
		}
	}
	return problems
}

func readDockerfile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDockerfile(t *testing.T) {
	p := loadProject(t)
	for _, problem := range checkDockerfile(readDockerfile(t), p) {
		t.Error(problem)
	}
}

func TestDockerignore(t *testing.T) {
	p := loadProject(t)
	for _, problem := range checkDockerignore(p) {
		t.Error(problem)
	}
}

// TestDockerfileMutations: each change to the real Dockerfile that would
// break the image must be reported, so that the checks above can fail.
func TestDockerfileMutations(t *testing.T) {
	p := loadProject(t)
	orig := string(readDockerfile(t))
	const build = "RUN CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \\\n    go build -trimpath -buildvcs=false -o /home/site/wwwroot/handler ./cmd/handler"
	const exeCopy = "COPY --from=build --chmod=0755 /home/site/wwwroot/handler /home/site/wwwroot/handler"
	const final = "FROM mcr.microsoft.com/azure-functions/base:4"
	buildStage := orig[strings.Index(orig, "FROM --platform"):strings.Index(orig, final)]
	cases := []struct {
		name, old, new, want string
	}{
		{"cgo on", "CGO_ENABLED=0", "CGO_ENABLED=1", `CGO_ENABLED="1"`},
		{"cgo left to the default", "RUN CGO_ENABLED=0 ", "RUN ", `CGO_ENABLED=""`},
		{"wrong GOARCH", "GOARCH=amd64", "GOARCH=arm64", `GOARCH="arm64"`},
		{"no trimpath", " -trimpath", "", "without -trimpath"},
		{"wrong output path", "-o /home/site/wwwroot/handler ./cmd", "-o /out/handler ./cmd", `go build -o "/out/handler"`},
		{"relative output resolved against WORKDIR", "-o /home/site/wwwroot/handler ./cmd", "-o handler ./cmd", `"/src/handler"`},
		{"final copies another path", exeCopy, "COPY --from=build --chmod=0755 /home/site/wwwroot/handler /home/site/wwwroot/app", "does not copy the built"},
		{"handler not executable", "--chmod=0755 ", "", "without making it executable"},
		{"handler executable by its owner only", "--chmod=0755", "--chmod=0744", "without making it executable"},
		{"copies local.settings.json", "COPY host.json /home/site/wwwroot/host.json", "COPY host.json local.settings.json /home/site/wwwroot/", "local.settings.json"},
		{"copies by a pattern that takes local.settings.json", "COPY host.json /home/site/wwwroot/host.json", "COPY *.json /home/site/wwwroot/", "local.settings.json (through *.json)"},
		{"copies a key", "COPY Me /home/site/wwwroot/Me", "COPY Me /home/site/wwwroot/Me\nCOPY tls.pem /home/site/", "copies tls.pem"},
		{"copies an .env file", "COPY Me /home/site/wwwroot/Me", "COPY Me /home/site/wwwroot/Me\nCOPY .env /home/site/", "copies .env"},
		{"whole context into the final image", "COPY Me /home/site/wwwroot/Me", "COPY . /home/site/wwwroot", "copies the whole build context"},
		{"sources into the final image", "COPY Me /home/site/wwwroot/Me", "COPY Me /home/site/wwwroot/Me\nCOPY cmd /home/site/wwwroot/cmd", "only host.json and the function folders"},
		{"missing function folder", "COPY Me /home/site/wwwroot/Me\n", "", "does not copy Me"},
		{"function folder in the wrong place", "COPY Me /home/site/wwwroot/Me", "COPY Me /home/site/Me", "want /home/site/wwwroot/Me"},
		{"missing source", "COPY Hello /home/site/wwwroot/Hello", "COPY Goodbye /home/site/wwwroot/Goodbye", "does not exist in the repository"},
		{"build stage misses a package", "COPY internal ./internal\n", "", "does not copy internal/"},
		{"sources before the download", "COPY go.mod go.sum ./\nRUN go mod download\n", "COPY go.mod go.sum ./\n", "RUN go mod download, and only then"},
		{"build stage misses go.sum", "COPY go.mod go.sum ./", "COPY go.mod ./", "does not copy go.sum"},
		{"no build stage", buildStage, "", "stage(s)"},
		{"no golang build stage", "golang:${GO_VERSION}-bookworm", "debian:bookworm", "no build stage FROM golang"},
		{"missing final stage", orig[strings.Index(orig, final):], "", "want mcr.microsoft.com/azure-functions/base:4"},
		{"language image", final, "FROM mcr.microsoft.com/azure-functions/dotnet:4", "want mcr.microsoft.com/azure-functions/base:4"},
		{"untagged base", final, "FROM mcr.microsoft.com/azure-functions/base", "name a tag"},
		{"Go older than go.mod", "ARG GO_VERSION=1.26", "ARG GO_VERSION=1.21", "older than go.mod"},
		{"script root", "AzureWebJobsScriptRoot=/home/site/wwwroot", "AzureWebJobsScriptRoot=/app", "AzureWebJobsScriptRoot=\"/app\""},
		{"console logging off", "IsEnabled=true", "IsEnabled=false", "IsEnabled=\"false\""},
		{"a secret built in", "FUNCTIONS_WORKER_RUNTIME=custom", "FUNCTIONS_WORKER_RUNTIME=custom \\\n    AUTH_CLIENT_SECRET=hunter2", "AUTH_CLIENT_SECRET"},
		{"CMD bypasses the host", exeCopy, exeCopy + "\nCMD [\"/home/site/wwwroot/handler\"]", "CMD or ENTRYPOINT"},
		{"copy from no stage", "--from=build", "--from=builder", "COPY --from=builder names no earlier stage"},
		{"second build of the handler", build, build + "\nRUN go build -o /x ./cmd/handler", "a second go build"},
		// BuildKit's rules that need no conversion (the buildkit tag adds
		// the rest).
		{"casing", "AS build", "as build", "BuildKit check FromAsCasing"},
		{"stage name casing", "AS build", "AS Build", "BuildKit check StageNameCasing"},
		{"bad flag", "--chmod=0755", "--chmode=0755", "unknown flag: --chmode"},
		{"empty continuation line", "FUNCTIONS_WORKER_RUNTIME=custom", "FUNCTIONS_WORKER_RUNTIME=custom \\\n\n    EXTRA=1", "BuildKit parser"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkMutation(t, p, orig, tc.old, tc.new, tc.want) })
	}
}

// checkMutation replaces old with new in the Dockerfile text orig and
// fails unless checkDockerfile reports a problem mentioning want.
func checkMutation(t *testing.T, p *project, orig, old, new, want string) {
	t.Helper()
	if !strings.Contains(orig, old) {
		t.Fatalf("the Dockerfile no longer contains %q: update this mutation", old)
	}
	problems := checkDockerfile([]byte(strings.Replace(orig, old, new, 1)), p)
	t.Log(strings.Join(problems, "\n"))
	for _, pr := range problems {
		if strings.Contains(pr, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got:\n%s", want, strings.Join(problems, "\n"))
}

// TestDockerignoreMutations: the .dockerignore checks can fail too.
func TestDockerignoreMutations(t *testing.T) {
	base := loadProject(t)
	cases := []struct {
		name     string
		patterns []string
		want     string
	}{
		{"nothing ignored", nil, "lets local.settings.json into"},
		{"local settings let back in", []string{"*", "!local.settings.json"}, "lets local.settings.json into"},
		{"denylist without local settings", []string{".git", "handler", "dist"}, "lets local.settings.json into"},
		{"function folder kept out", []string{"*", "!go.mod", "!go.sum", "!host.json", "!Hello"}, "excludes Me"},
		{"package sources kept out", []string{"*", "!go.mod", "!go.sum", "!host.json", "!Hello", "!Me", "!cmd/handler"}, "excludes api/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := *base
			var err error
			if p.ignore, err = patternmatcher.New(tc.patterns); err != nil {
				t.Fatal(err)
			}
			problems := checkDockerignore(&p)
			for _, pr := range problems {
				if strings.Contains(pr, tc.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got:\n%s", tc.want, strings.Join(problems, "\n"))
		})
	}
}
