// Package tools checks the repository's build and CI files: the Dockerfile
// and .dockerignore against the Functions project layout, and the GitHub
// Actions workflows with actionlint. Everything is in its tests.
//
// It is a module of its own so that BuildKit's Dockerfile parser and
// actionlint, and what they depend on, never enter the handler's go.mod:
// `go test ./...` at the repository root does not descend into a nested
// module, and the handler's build does not see these dependencies.
package tools
