# The executable the Functions host starts (host.json defaultExecutablePath).
BIN     := handler
GO      ?= go
DEV_PORT ?= 7071

# What the shell exports must not change or break these targets. Every go
# command runs with the shell's GOFLAGS replaced (a -mod=vendor or -race
# exported for another project would break the build; settings written with
# `go env -w` still apply), outside any go.work, in module mode.
#
# And every go command builds as the handler ships: static (CGO_ENABLED=0)
# and -trimpath. The build cache keys on both, so that vet, the tests, the
# tooling module and make dev, package and build then compile the standard
# library and the dependencies once, not once for each way (on a cold
# cache, about a minute of CPU each). -race needs cgo: race-deps and
# unit-race turn it back on.
export GOFLAGS := -trimpath
export CGO_ENABLED := 0
export GOWORK := off
export GO111MODULE := on
# tools/go.mod needs a newer Go than go.mod (BuildKit's parser); auto lets
# an older go command fetch it from the module proxy, even where the shell
# exports GOTOOLCHAIN=local.
export GOTOOLCHAIN := auto

# The host's own platform, for whatever runs here (dev, tests, benchmarks,
# fuzzing), whatever GOOS/GOARCH the shell exports for cross-compiling.
HOST_GOOS   := $(shell GOFLAGS= GOOS= GOARCH= $(GO) env GOHOSTOS)
HOST_GOARCH := $(shell GOFLAGS= GOOS= GOARCH= $(GO) env GOHOSTARCH)
HOST_ENV    := GOOS=$(HOST_GOOS) GOARCH=$(HOST_GOARCH)

# A static binary, with no libc to match on the Functions image. build
# honours GOOS/GOARCH (GOOS=linux GOARCH=amd64 make build for Azure).
BUILD_ENV := CGO_ENABLED=0
# The VCS revision goes into the binary for `handler version` and the
# listening log line, even where GOFLAGS (or go env -w) turns it off; auto
# builds without it outside a checkout.
BUILD_FLAGS := -trimpath -buildvcs=auto

.PHONY: all build dev test check tools tools-go lint-dockerfile check-fmt vet race-deps unit unit-race unit-norace e2e fuzz bench bench-docs bench-go bench-http bench-test soak package publish clean

all: build

build:
	$(BUILD_ENV) $(GO) build $(BUILD_FLAGS) -o $(BIN) ./cmd/handler

# Build for this machine, then serve the fixed dev configuration on
# 127.0.0.1:$(DEV_PORT). The handler ignores the shell's AUTH_* and listen
# settings, fails naming the port when it is taken, and once listening
# prints a request that works against it.
dev:
	$(HOST_ENV) $(BUILD_ENV) $(GO) build $(BUILD_FLAGS) -o $(BIN) ./cmd/handler
	./$(BIN) dev -port $(DEV_PORT)

# gofmt and vet, while make tools installs the validators. Then, each
# alone: race-deps compiles -race's own copy of the standard library and
# the dependencies (vet's compiles are the other copy: the two share no
# work); tools-go, the tooling module's checks of the repository's other
# files. Last, side by side: the unit tests (-race where it finds
# something, and the others), the end-to-end tests of the built binary and
# the bench module's tests. Each package's result, and each e2e test's,
# prints as it ends; their lines interleave.
#
# Each of those compiles keeps both cores busy by itself (go build's own
# -p), so running two at once only adds contention. Cold runs of .ci/run on
# a 2-core machine: 4 min 29 s and 514 s of CPU with vet beside race-deps
# and tools-go beside the tests; 3 min 45 s to 3 min 58 s, 403 s to 433 s
# of CPU, in these steps. One make -j over prerequisites, which
# starts each test job as soon as its compiles are there, was worse
# still: 497 s and 500 s.
#
# go test runs a few of vet's checks itself unless told -vet=off; after
# make vet (and each module's own vet) has run them all, that is the same
# work again, on a cold cache most of a minute of CPU. TESTVET is how the
# targets below get -vet=off when vet has run. The test binaries link
# without DWARF (TESTLD): no debugger reads them there (stack traces and
# the race detector's reports come from the runtime's own tables), and it
# saves about 0.3 s of CPU on each of the two dozen links.
TESTLD := -ldflags=-w

# First, .ci/deps: what the tests need besides Go (ShellCheck, unzip,
# Node.js, ...), installed with apt-get when that needs no password, or
# named with the command that installs it, before minutes of work.
test:
	@bash .ci/deps
	@$(MAKE) --no-print-directory -j2 check-fmt vet tools
	@$(MAKE) --no-print-directory race-deps
	@$(MAKE) --no-print-directory TESTVET=-vet=off tools-go
	@$(MAKE) --no-print-directory -j4 TESTVET=-vet=off unit-race unit-norace e2e bench-test

# The quick check while working: gofmt, vet and the unit tests, without
# the end-to-end tests, without -race and without Azurite (-short; make
# test runs them all), and without go test's own few vet checks, which
# vet has just run.
check: check-fmt vet
	$(HOST_ENV) $(GO) test -vet=off $(TESTLD) -short -count=1 $(unit_pkgs)

# The repository's files other than the running handler, checked by the
# tooling module in tools/: the Dockerfile with BuildKit's parser (and its
# lint rules that need no conversion; make lint-dockerfile runs the rest),
# the workflows
# with actionlint, the shell scripts with ShellCheck and the docs' shell
# examples with bash -n; the function app's files against the route table
# and the zip make package builds; deploy/provision.sh (dry runs, and runs
# against a fake az) and docs/deploy.md; the connector validators, and the
# generated connector through them; the README's contents line and every
# citation of a Markdown file. A module of its own keeps its dependencies
# out of go.mod, and ./... never reaches it. ENTRAFUNC_REQUIRE_TOOLS=1
# makes a missing shellcheck or validator fail instead of skipping. Its
# tests include tools/cmd/progress, which make e2e pipes go test into.
# The tests run before vet, which then finds everything compiled.
tools-go: tools
	cd tools && $(HOST_ENV) ENTRAFUNC_REQUIRE_TOOLS=1 $(GO) test -vet=off $(TESTLD) -count=1 ./... && $(HOST_ENV) $(GO) vet ./...

# BuildKit's conversion of the Dockerfile and the lint rules that run
# there (those of docker build --check: undefined variables and ARGs,
# secrets in ARG or ENV, ...), with the checks make test runs. It compiles
# BuildKit's LLB packages (containerd, gRPC, OpenTelemetry): about 95 s of
# CPU on a cold cache, more than make test's budget allows for a file that
# seldom changes. The CI workflow runs it as a job of its own, beside make
# test; run it after changing the Dockerfile or .dockerignore.
lint-dockerfile:
	cd tools && $(HOST_ENV) $(GO) vet -tags buildkit ./dockerfile && $(HOST_ENV) $(GO) test -vet=off -tags buildkit -count=1 ./dockerfile

# The connector validators (newman, swagger-cli, Spectral, ajv) that the
# tooling module's tests and e2e (newman) run, at the versions
# tools/package-lock.json pins. npm ci runs only when the lockfile or
# package.json is newer than the stamp it leaves in node_modules, so a
# warm make test does not touch the network. Install scripts are skipped:
# none of the tools needs one (the only one is an install-analytics ping).
TOOLS_STAMP := tools/node_modules/.entrafunc-stamp
tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): tools/package.json tools/package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		echo "make test needs Node.js 18.18+ or 20.17+, and npm: node or npm is not on PATH (on Debian: apt-get install nodejs npm)" >&2; exit 1; }
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit((a === 18 && b >= 18) || (a === 20 && b >= 17) || a > 20 ? 0 : 1)' || { \
		echo "make test needs Node.js 18.18+ or 20.17+, and npm: node $$(node --version) is outside that (Spectral needs ^18.18 or >=20.17)" >&2; exit 1; }
	cd tools && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline
	touch $@

check-fmt:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(HOST_ENV) $(GO) vet ./...

# The packages of ./..., evaluated when a target uses them: every one but
# e2e (unit_pkgs); of those, the ones whose tests run with -race. -race
# finds goroutines sharing memory in the test's own process, at 2-10
# times the CPU (cmd/funcpack's tests: 20 s instead of 4). It finds
# nothing where no goroutine shares memory: cmd/funcpack, connector,
# internal/bounded and internal/reasonwords start none and are never
# called concurrently (NORACE), and e2e's subject is other processes
# (the handler it built, node, bash).
MODULE := github.com/entrafunc/entrafunc
NORACE := cmd/funcpack connector internal/bounded internal/reasonwords
unit_pkgs = $(filter-out $(MODULE)/e2e,$(shell $(HOST_ENV) $(GO) list -e ./...))
race_pkgs = $(filter-out $(addprefix $(MODULE)/,$(NORACE)),$(unit_pkgs))
# go test starts the test binaries in the order it is given them, as many
# at a time as there are cores. tasks/azuretable goes first: it mostly
# waits on Azurite, so it runs beside the others instead of alone at the
# end.
WAITFIRST := $(MODULE)/tasks/azuretable
race_order = $(filter $(WAITFIRST),$(race_pkgs)) $(filter-out $(WAITFIRST),$(race_pkgs))

# What unit-race's tests are built from, compiled ahead (see test): the
# packages under test and everything they import (a main package would be
# linked for nothing).
race-deps:
	$(HOST_ENV) CGO_ENABLED=1 $(GO) build -race $(filter-out $(MODULE)/cmd/%,$(race_pkgs))

# The unit tests, -race where it finds something (unit-race; -race needs
# cgo, and so a C compiler), the others without (unit-norace), side by side
# under make -j. The Table storage store's tests run against Azurite, which
# make tools installs: here a missing Azurite fails them (make check, which
# does not install it, lets them skip).
unit: unit-race unit-norace

unit-race: tools
	$(HOST_ENV) CGO_ENABLED=1 ENTRAFUNC_REQUIRE_TOOLS=1 $(GO) test $(TESTVET) $(TESTLD) -race -count=1 $(race_order)

unit-norace:
	$(HOST_ENV) ENTRAFUNC_REQUIRE_TOOLS=1 $(GO) test $(TESTVET) $(TESTLD) -count=1 $(filter-out $(race_pkgs),$(unit_pkgs))

# The end-to-end tests: e2e builds the handler once and drives it as the
# Functions host does, E2E_PARALLEL tests at a time, each with its own
# ports and folders (the resilience cases, which measure, run first and
# alone). tools/cmd/progress prints a line per test as it ends, and all
# that a failing test logged. ENTRAFUNC_REQUIRE_TOOLS=1 makes a missing
# connector tool fail the tests that need it instead of skipping them (a
# bare go test still skips).
E2E_PARALLEL ?= 8
e2e: tools
	$(HOST_ENV) ENTRAFUNC_REQUIRE_TOOLS=1 $(GO) test $(TESTVET) $(TESTLD) -count=1 -json -parallel $(E2E_PARALLEL) ./e2e | (cd tools && $(HOST_ENV) $(GO) run ./cmd/progress)

# Short fuzzing runs of every decoder of untrusted input.
FUZZTIME ?= 20s
fuzz:
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzSignedToken$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzClaimsUnmarshal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzParseClientPrincipal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzHelloBody$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./api
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzInvoke$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./api
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzHelloQuery$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./api
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzBearerToken$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzTokenHeader$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzTrace$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzExplain$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./internal/explain
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzTaskBody$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./api
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzTaskQuery$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./api
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzPageToken$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./tasks
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzParseDate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./tasks
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzEachMember$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(HOST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzEscape$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./internal/bounded

# The resilience cases at length (make test runs them for seconds each):
# 1,000 connections for 30 s, SIGTERM under load 20 times, the issuer down
# for 30 s, a random-kid flood. About 5 minutes; the test process holds the
# handler's log in memory (about 1 GB at peak).
soak:
	$(HOST_ENV) ENTRAFUNC_SOAK=1 $(GO) test -count=1 -timeout 30m -run '^TestResilience' -v ./e2e

# The authenticated Hello over HTTP on loopback, in one run: a bare net/http
# ceiling, this handler (verified-token cache on and off), a Go peer (chi +
# golang-jwt + keyfunc) and a Node.js peer (express + jose); closed and open
# loop, cold start, RSS, in interleaved rounds with medians. In the same
# rounds, the handler's GET /api/tasks (20 tasks) and POST /api/tasks on the
# embedded store, with their ratios to authenticated Hello. Writes
# benchmarks.md, benchmarks.svg and results.json to bench/out/, which git
# ignores, so that a try run (ROUNDS=1 make bench) leaves the tracked docs
# alone. bench/ is a module of its own (vegeta stays out of
# go.mod); the tool runs npm ci in bench/node when needed. Settings: ROUNDS,
# DURATION, OPEN_DURATION, CONNS, RATE, POST_RATE, COLD_STARTS, HANDLER_TAGS.
bench:
	cd bench && $(HOST_ENV) $(GO) run ./cmd/bench

# The same run, writing docs/benchmarks.md and docs/benchmarks.svg, the
# copies the repository tracks (the raw results still go to bench/out/).
# Run it at the defaults when the figures in docs/ should change.
bench-docs:
	cd bench && $(HOST_ENV) $(GO) run ./cmd/bench -update-docs

bench-http: bench

# In-process benchmarks, side by side in one run: token verification with
# and without the verified-token cache, and the whole request path against a
# bare net/http handler. Compare within one run only: these machines are noisy.
BENCHCOUNT ?= 5
bench-go:
	$(HOST_ENV) $(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./auth ./api

# The bench module's own vet and tests, without its end-to-end smoke run.
bench-test:
	cd bench && $(HOST_ENV) $(GO) vet ./... && $(HOST_ENV) $(GO) test -vet=off $(TESTLD) -short -count=1 ./...

# The zip that `func azure functionapp publish` deploys, to check it and
# for other ways to deploy: the handler built for the Functions host
# (static linux/amd64 for any x86-64 CPU, GOAMD64=v1, whatever the shell
# or go env -w says), then packed by
# cmd/funcpack, which runs on this machine and refuses a handler the host
# could not start. This leaves ./handler a Linux binary: make dev rebuilds
# it for this machine.
PACKAGE := dist/functionapp.zip

package:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOAMD64=v1 $(GO) build $(BUILD_FLAGS) -o $(BIN) ./cmd/handler
	$(HOST_ENV) $(GO) run ./cmd/funcpack -o $(PACKAGE)

# make publish APP=<function app> [FUNC_ARGS=...] publishes with Core
# Tools, which builds nothing for a custom handler and ships whatever
# ./handler is (after make dev, this machine's build): package rebuilds it
# for Azure and checks what will ship first. FUNC_ARGS goes to func as is
# (--slot NAME, --force), except local settings: they hold AUTH_MODE=dev,
# which the handler refuses to run in Azure.
ifneq ($(filter publish,$(MAKECMDGOALS)),)
ifeq ($(strip $(APP)),)
$(error usage: make publish APP=<function app name> [FUNC_ARGS='--slot staging'])
endif
ifneq ($(filter --publish-local-settings% -i --publish-settings-only% -o,$(FUNC_ARGS)),)
$(error make publish does not publish local.settings.json (AUTH_MODE=dev, which the handler refuses in Azure): set the app's settings in Azure instead)
endif
endif

publish: package
	@command -v func >/dev/null 2>&1 || { echo "make publish needs Azure Functions Core Tools (func) on PATH" >&2; exit 1; }
	func azure functionapp publish '$(APP)' $(FUNC_ARGS)

clean:
	rm -f $(BIN) $(PACKAGE)
