# The executable the Functions host starts (host.json defaultExecutablePath).
BIN     := handler
GO      ?= go
DEV_PORT ?= 7071

# A static Linux binary runs on every Functions image; GOOS/GOARCH may be
# overridden to build for a laptop instead.
BUILD_ENV := CGO_ENABLED=0

.PHONY: all build dev test check-fmt vet unit fuzz bench bench-http clean

all: build

build:
	$(BUILD_ENV) $(GO) build -trimpath -o $(BIN) ./cmd/handler

# Start in dev mode on 127.0.0.1:$(DEV_PORT) with the local token issuer, after
# printing a request that works against it.
dev: build
	@AUTH_MODE=dev ./$(BIN) check >/dev/null || AUTH_MODE=dev ./$(BIN) check
	@tok=$$(AUTH_MODE=dev ./$(BIN) token --name Marc) && \
	printf '\nDev mode on http://127.0.0.1:$(DEV_PORT). In another terminal:\n\n' && \
	printf "curl -s -X POST http://127.0.0.1:$(DEV_PORT)/api/Hello -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"name\": \"Marc\"}'\n\n" "$$tok" && \
	printf 'More tokens: ./$(BIN) token --name Someone [--scope user_impersonation]\n\n'
	AUTH_MODE=dev FUNCTIONS_CUSTOMHANDLER_PORT=$(DEV_PORT) exec ./$(BIN)

test: check-fmt vet unit

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Unit tests and the end-to-end test (e2e/ builds the real binary and drives
# it as the Functions host does).
unit:
	$(GO) test -race -count=1 ./...

# Short fuzzing runs of every decoder of untrusted input.
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(GO) test -run '^$$' -fuzz '^FuzzSignedToken$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(GO) test -run '^$$' -fuzz '^FuzzClaimsUnmarshal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(GO) test -run '^$$' -fuzz '^FuzzParseClientPrincipal$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./auth
	$(GO) test -run '^$$' -fuzz '^FuzzHelloBody$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./api
	$(GO) test -run '^$$' -fuzz '^FuzzInvoke$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./api
	$(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./internal/logjson

# In-process benchmarks, side by side in one run: token verification with
# and without the verified-token cache, and the whole request path against a
# bare net/http handler. Compare within one run only: these machines are noisy.
BENCHCOUNT ?= 5
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./auth ./api

# The authenticated Hello over HTTP against a bare net/http server, with wrk
# (installed when missing and run as root), interleaved rounds, median ratio.
bench-http:
	./bench/http.sh

clean:
	rm -f $(BIN)
