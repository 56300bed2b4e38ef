package main

import (
	"slices"
	"strings"
)

// lookupFunc reads the process environment as os.LookupEnv does: whether
// a variable is set matters as well as its value, since the platform may
// set a marker to the empty string.
type lookupFunc func(string) (string, bool)

// get is the variable's value, "" when unset.
func (l lookupFunc) get(k string) string {
	v, _ := l(k)
	return v
}

// A platformMarker is an environment variable that an Azure hosting
// option sets in the processes it runs, and that nothing sets on a
// developer's machine. The names and the rules come from the Functions
// host's own platform checks, src/WebJobs.Script/Environment/
// EnvironmentExtensions.cs and EnvironmentSettingNames.cs in
// github.com/Azure/azure-functions-host, and from Container Apps'
// documented variables,
// https://learn.microsoft.com/azure/container-apps/environment-variables.
type platformMarker struct {
	name string
	// where is the hosting option the marker shows, for messages.
	where string
	// easyAuth says App Service Authentication can stand in front of
	// that hosting option and strip forged principal headers. Plain
	// Kubernetes (AKS, KEDA) has nothing of the kind.
	easyAuth bool
	// corroborated means the marker counts only beside another sign of
	// the Functions platform (see corroborations): its name is too
	// common to mean Azure alone.
	corroborated bool
}

// platformMarkers are checked in this order; the first one set is the
// one messages name.
var platformMarkers = []platformMarker{
	// IsAppService: the host's test is "set and not empty"; set to the
	// empty string it counts here too, failing closed.
	{"WEBSITE_INSTANCE_ID", "App Service (Dedicated, Premium or Windows Consumption plan)", true, false},
	// The site's name, set on every App Service-based plan, Flex and
	// Linux Consumption included. Core Tools (func start) does not set it:
	// it sets WEBSITE_HOSTNAME, which is therefore no marker.
	{"WEBSITE_SITE_NAME", "an App Service-based plan", true, false},
	{"WEBSITE_SKU", "an App Service-based plan", true, false},
	// IsFlexConsumptionSku / IsLinuxConsumptionOnLegion.
	{"LEGION_SERVICE_HOST", "Flex Consumption", true, false},
	{"WEBSITE_POD_NAME", "Flex Consumption", true, false},
	// IsManagedAppEnvironment: Functions on Container Apps.
	{"MANAGED_ENVIRONMENT", "Azure Functions on Container Apps", true, false},
	{"CONTAINER_APP_NAME", "Azure Container Apps", true, false},
	// IsLinuxConsumptionOnAtlas reads CONTAINER_NAME alone, but container
	// runtimes and sandboxes outside Azure set it too, so here it needs a
	// second sign (below). Every process Linux Consumption runs has one:
	// the host started it. Those signs are settings a copy can carry, and
	// a Functions host run anywhere sets them, so CONTAINER_NAME never
	// opens the Easy Auth gate: there WEBSITE_SITE_NAME, which Linux
	// Consumption sets too, has to.
	{"CONTAINER_NAME", "Linux Consumption", false, true},
	// Any Kubernetes pod: AKS, KEDA, and Container Apps underneath.
	{"KUBERNETES_SERVICE_HOST", "Kubernetes (AKS, KEDA)", false, false},
}

// corroborations are what makes CONTAINER_NAME count: the Functions host
// started this process (it sets FUNCTIONS_CUSTOMHANDLER_WORKER_ID, and the
// app's settings carry FUNCTIONS_WORKER_RUNTIME), or Linux Consumption's
// own container settings are there.
var corroborations = []string{
	"FUNCTIONS_CUSTOMHANDLER_WORKER_ID",
	"FUNCTIONS_HTTPWORKER_ID",
	"FUNCTIONS_WORKER_RUNTIME",
	"CONTAINER_ENCRYPTION_KEY",
	"CONTAINER_START_CONTEXT",
	"CONTAINER_START_CONTEXT_SAS_URI",
	"WEBSITE_CONTAINER_READY",
	"WEBSITE_PLACEHOLDER_MODE",
}

// platform is where the process runs, as the environment tells it.
type platform struct {
	// Marker is the first marker found; nil outside Azure.
	Marker *platformMarker
	// EasyAuthMarker is the first marker of a hosting option where Easy
	// Auth can run; nil when there is none.
	EasyAuthMarker *platformMarker
}

// InAzure says the process runs on an Azure hosting option, or in
// Kubernetes: anywhere a development key must not sign tokens and an
// embedded store's file is not shared between instances.
func (p platform) InAzure() bool { return p.Marker != nil }

// Why names the marker that decided, for messages: "CONTAINER_APP_NAME is
// set: Azure Container Apps".
func (p platform) Why() string {
	if p.Marker == nil {
		return "no Azure platform variable is set (" + markerNames() + ")"
	}
	return p.Marker.name + " is set: " + p.Marker.where
}

// detectPlatform is the one judgement of where the process runs. Every
// command that refuses to run in Azure, and the Easy Auth trust gate, ask
// it, through readConfig.
func detectPlatform(lookup lookupFunc) platform {
	corroborated := false
	for _, k := range corroborations {
		if _, ok := lookup(k); ok {
			corroborated = true
			break
		}
	}
	var p platform
	for i := range platformMarkers {
		m := &platformMarkers[i]
		if _, ok := lookup(m.name); !ok || m.corroborated && !corroborated {
			continue
		}
		if p.Marker == nil {
			p.Marker = m
		}
		if m.easyAuth && p.EasyAuthMarker == nil {
			p.EasyAuthMarker = m
		}
	}
	return p
}

// isPlatformVariable says k is read by detectPlatform: environments that
// replace the process's (handler dev, token --dev, explain --dev) pass
// these through unchanged, so that they refuse to run in Azure too.
func isPlatformVariable(k string) bool {
	return slices.ContainsFunc(platformMarkers, func(m platformMarker) bool { return m.name == k }) ||
		slices.Contains(corroborations, k)
}

func markerNames() string {
	names := make([]string, len(platformMarkers))
	for i, m := range platformMarkers {
		names[i] = m.name
	}
	return strings.Join(names, ", ")
}
