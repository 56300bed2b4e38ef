// Package dockerfile checks the repository's Dockerfile and .dockerignore
// against the Functions project layout: BuildKit's parser reads the
// Dockerfile, the checks hold its stages, copies and build to what the
// repository says the image must contain. With the buildkit build tag
// (make lint-dockerfile), BuildKit's own conversion and lint rules (those
// of docker build --check) run on it too. Everything is in its tests.
//
// It is a package of its own so that the tag's cost, BuildKit's
// conversion, is paid by this package alone.
package dockerfile
