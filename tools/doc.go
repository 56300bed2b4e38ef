// Package tools checks the repository's build, CI and documentation
// files: the Dockerfile and .dockerignore against the Functions project
// layout, the GitHub Actions workflows with actionlint, every shell script
// with shellcheck, the README's contents line, and that every citation of
// a Markdown file names one a reader of the repository has. Everything is
// in its tests. (cmd/progress is the line-per-test printer of make e2e.)
//
// It is a module of its own so that BuildKit's Dockerfile parser and
// actionlint, and what they depend on, never enter the handler's go.mod:
// `go test ./...` at the repository root does not descend into a nested
// module, and the handler's build does not see these dependencies.
package tools
