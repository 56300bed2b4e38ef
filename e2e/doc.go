// Package e2e tests the built handler binary the way the Azure Functions
// host runs it: it starts the executable with FUNCTIONS_CUSTOMHANDLER_PORT
// set, polls GET / until it answers, forwards HTTP requests with the headers
// the host adds, and stops it with SIGTERM. Nothing else about the host is
// emulated; see github.com/Azure/azure-functions-host src/WebJobs.Script/Workers/Http/ (DefaultHttpWorkerService.cs).
package e2e
