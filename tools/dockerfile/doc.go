// Package dockerfile checks the repository's Dockerfile and .dockerignore
// against the Functions project layout: BuildKit's parser reads the
// Dockerfile, the checks hold its stages, copies and build to what the
// repository says the image must contain, and BuildKit's own conversion
// and lint rules (those of docker build --check) run on it. Everything is
// in its tests.
//
// It is a package of its own because BuildKit's conversion is most of
// what the tooling module compiles: go test builds it while the other
// checks of the module already run.
package dockerfile
