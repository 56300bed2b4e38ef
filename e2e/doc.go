// Package e2e tests the built handler binary the way the Azure Functions
// host runs it: it starts the executable with FUNCTIONS_CUSTOMHANDLER_PORT
// set, polls GET / until it answers, forwards HTTP requests with the headers
// the host adds, and stops it with SIGTERM. Nothing else about the host is
// emulated; see shared reference platform.md §1.3, §1.4 and §2.2.
package e2e
