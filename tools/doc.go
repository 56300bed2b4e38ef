// Package tools checks the repository's files other than the running
// handler, which e2e drives:
//
//   - the Dockerfile and .dockerignore against the Functions project
//     layout, with BuildKit's parser (in dockerfile/; with the buildkit
//     tag, make lint-dockerfile, BuildKit's conversion and lint rules);
//   - the function app's files (host.json, each function.json,
//     .funcignore, local.settings.json) against the route table, and the
//     zip make package builds from them with cmd/funcpack;
//   - deploy/provision.sh, by its dry runs and by real runs against a fake
//     az, and docs/deploy.md against the script, the Makefile and the
//     deploy workflow;
//   - the connector's validators (swagger-cli, Spectral, ajv with
//     Microsoft's schemas, newman; installed by make tools), on real
//     connectors and samples, and on the generated connector;
//   - the GitHub Actions workflows with actionlint, every shell script
//     with shellcheck, the shell examples of README.md and docs/ with
//     bash -n, the README's contents line, and that every citation of a
//     Markdown file names one a reader of the repository has.
//
// Everything is in its tests. (cmd/progress is the line-per-test printer
// of make e2e.)
//
// It is a module of its own so that BuildKit's Dockerfile parser and
// actionlint, and what they depend on, never enter the handler's go.mod:
// `go test ./...` at the repository root does not descend into a nested
// module, and the handler's build does not see these dependencies. It
// imports the main module (the route table, the connector's names) from
// the working tree, through the replace in its go.mod.
package tools
