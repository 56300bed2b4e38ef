# syntax=docker/dockerfile:1
#
# The function app as a container: the Functions host from Microsoft's base
# image, which starts the Go custom handler as host.json says. Settings come
# from the environment at run time (local.settings.json is not read in a
# container, and none is copied in):
#
#   docker build --platform linux/amd64 -t entrafunc .
#   docker run --rm -p 8080:80 -e AUTH_MODE=jwt -e AUTH_TENANT_ID=... \
#     -e AUTH_AUDIENCES=... entrafunc
#
# The Functions host images are published for linux/amd64 only, so the
# handler is always built for amd64; --platform keeps Docker on an arm64
# machine from looking for an arm64 variant of the base image.
# tools/dockerfile_test.go holds this file to the layout host.json expects.

# The golang image's minor version, not a patch: rebuilding picks up Go's
# security releases. It must stay at or above go.mod's go line, which the
# image's GOTOOLCHAIN=local will not download for us.
ARG GO_VERSION=1.26

# The compiler runs on the build machine's own platform (no emulation on an
# arm64 laptop); the output is cross-compiled for the Functions image below.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src

# Dependencies first, so that a change in our code does not download them
# again.
COPY go.mod go.sum ./
RUN go mod download

# Only the packages the handler is built from (go list -deps ./cmd/handler);
# .dockerignore keeps tests and test data out of them.
COPY cmd/handler ./cmd/handler
COPY api ./api
COPY auth ./auth
COPY connector ./connector
COPY internal ./internal
COPY tasks ./tasks

# Static (no libc to match in the base image), for the host's linux/amd64,
# with no local paths in the binary. There is no .git in the build context,
# so VCS stamping is off rather than left to fail or guess; `handler
# version` then reports the revision as unknown. The binary is written
# straight to the path the host runs: AzureWebJobsScriptRoot joined with
# host.json's defaultExecutablePath.
RUN CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
    go build -trimpath -buildvcs=false -o /home/site/wwwroot/handler ./cmd/handler

# base is the Functions host without a language worker: the image Microsoft
# names for custom handlers. The dotnet, node and other language images would
# add a runtime the handler never uses and set FUNCTIONS_WORKER_RUNTIME to
# their own language. Tag 4 follows the v4 host's monthly patched releases;
# a minor-version tag would stop getting fixes. The -appservice variant adds
# SSH for App Service and is not needed otherwise.
FROM mcr.microsoft.com/azure-functions/base:4

# The host looks for host.json and the function folders under the script
# root, and logs to the console so that `docker logs` shows the handler's
# output. FUNCTIONS_WORKER_RUNTIME matches local.settings.json; an app
# setting of the same name still wins.
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    FUNCTIONS_WORKER_RUNTIME=custom

# What func azure functionapp publish would ship, and nothing else: host.json,
# one folder per function (api.Routes), and the handler. Each function is
# listed so that a folder added by mistake is not served.
COPY host.json /home/site/wwwroot/host.json
COPY Hello /home/site/wwwroot/Hello
COPY Me /home/site/wwwroot/Me
COPY Tasks /home/site/wwwroot/Tasks

# The host starts the handler by its path, so it must be executable whatever
# mode the build left it with.
COPY --from=build --chmod=0755 /home/site/wwwroot/handler /home/site/wwwroot/handler

# No USER, CMD or ENTRYPOINT: the base image starts the host as root and the
# host listens on port 80. Running as another user would need at least a
# different ASPNETCORE_URLS port and writable host directories; it is not
# something the image is published or documented for.
