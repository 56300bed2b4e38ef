package main

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

// A hosting profile is the set of platform variables one way of running
// the handler gives its process. The names are those the Functions host
// reads (src/WebJobs.Script/Environment/EnvironmentSettingNames.cs in
// github.com/Azure/azure-functions-host); what Container Apps sets is in
// https://learn.microsoft.com/azure/container-apps/environment-variables;
// what Core Tools sets under func start is in
// src/Cli/func/Actions/HostActions/StartHostAction.cs in
// github.com/Azure/azure-functions-core-tools. Every profile started by a
// Functions host also has the custom handler's own variables.
type hostingProfile struct {
	name    string
	env     env
	inAzure bool
	// easyAuth: App Service Authentication can stand in front there.
	easyAuth bool
	// marker is the variable messages must name.
	marker string
}

// hostStarted are the variables the Functions host gives a custom handler
// it starts (src/WebJobs.Script/Workers/Http/HttpWorkerProcess.cs).
func hostStarted(e env) env {
	out := env{
		"FUNCTIONS_CUSTOMHANDLER_PORT":      "41234",
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID": "6b0e4a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b",
		"FUNCTIONS_HTTPWORKER_PORT":         "41234",
		"FUNCTIONS_APP_ROOT_PATH":           "/home/site/wwwroot",
		"FUNCTIONS_WORKER_RUNTIME":          "custom",
		"FUNCTIONS_EXTENSION_VERSION":       "~4",
	}
	maps.Copy(out, e)
	return out
}

var hostingProfiles = []hostingProfile{
	{name: "App Service plan, Linux", inAzure: true, easyAuth: true, marker: "WEBSITE_INSTANCE_ID", env: hostStarted(env{
		"WEBSITE_INSTANCE_ID": "8c5e7d3f0b4a4f2e9c1d6b8a7e5f3c2d1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e", "WEBSITE_SITE_NAME": "hello-fn",
		"WEBSITE_HOSTNAME": "hello-fn.azurewebsites.net", "WEBSITE_SKU": "Basic", "WEBSITE_OWNER_NAME": "sub+rg-WestEuropewebspace",
		"FUNCTIONS_LOGS_MOUNT_PATH": "/var/log/functionsLogs"})},
	{name: "Windows Consumption", inAzure: true, easyAuth: true, marker: "WEBSITE_INSTANCE_ID", env: hostStarted(env{
		"WEBSITE_INSTANCE_ID": "0a1b2c3d", "WEBSITE_SITE_NAME": "hello-fn", "WEBSITE_SKU": "Dynamic", "WEBSITE_HOSTNAME": "hello-fn.azurewebsites.net"})},
	{name: "Elastic Premium", inAzure: true, easyAuth: true, marker: "WEBSITE_INSTANCE_ID", env: hostStarted(env{
		"WEBSITE_INSTANCE_ID": "0a1b2c3d", "WEBSITE_SITE_NAME": "hello-fn", "WEBSITE_SKU": "ElasticPremium"})},
	{name: "WEBSITE_INSTANCE_ID set but empty", inAzure: true, easyAuth: true, marker: "WEBSITE_INSTANCE_ID", env: env{"WEBSITE_INSTANCE_ID": ""}},
	{name: "Flex Consumption", inAzure: true, easyAuth: true, marker: "WEBSITE_SITE_NAME", env: hostStarted(env{
		"WEBSITE_SITE_NAME": "hello-fn", "WEBSITE_SKU": "FlexConsumption", "WEBSITE_HOSTNAME": "hello-fn.azurewebsites.net",
		"CONTAINER_NAME": "a1b2c3_hello-fn", "WEBSITE_POD_NAME": "hello-fn-7f9c", "LEGION_SERVICE_HOST": "10.0.0.4"})},
	{name: "Flex Consumption, placeholder (no site settings yet)", inAzure: true, easyAuth: true, marker: "LEGION_SERVICE_HOST", env: hostStarted(env{
		"WEBSITE_POD_NAME": "placeholder-7f9c", "LEGION_SERVICE_HOST": "10.0.0.4", "WEBSITE_PLACEHOLDER_MODE": "1"})},
	{name: "Linux Consumption", inAzure: true, easyAuth: true, marker: "WEBSITE_SITE_NAME", env: hostStarted(env{
		"CONTAINER_NAME": "E9A1B2C3D4-638712345678901234", "CONTAINER_ENCRYPTION_KEY": "(a key)", "WEBSITE_SITE_NAME": "hello-fn"})},
	// CONTAINER_NAME with the host's own variables: dev mode refuses, but
	// Easy Auth's headers are not trusted on its word, since a Functions
	// host run anywhere sets the same (and this sandbox sets
	// CONTAINER_NAME).
	{name: "Linux Consumption, CONTAINER_NAME and the host's variables only", inAzure: true, easyAuth: false, marker: "CONTAINER_NAME", env: hostStarted(env{
		"CONTAINER_NAME": "E9A1B2C3D4-638712345678901234", "CONTAINER_ENCRYPTION_KEY": "(a key)"})},
	{name: "a sandbox's CONTAINER_NAME with copied app settings", inAzure: true, easyAuth: false, marker: "CONTAINER_NAME", env: env{
		"CONTAINER_NAME": "uid-abc-def", "FUNCTIONS_WORKER_RUNTIME": "custom", "AUTH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}},
	{name: "Container Apps (the image, unmanaged)", inAzure: true, easyAuth: true, marker: "CONTAINER_APP_NAME", env: env{
		"CONTAINER_APP_NAME": "hello-fn", "CONTAINER_APP_REVISION": "hello-fn--r1", "CONTAINER_APP_REPLICA_NAME": "hello-fn--r1-5d9f",
		"CONTAINER_APP_HOSTNAME": "hello-fn--r1.example.azurecontainerapps.io", "CONTAINER_APP_ENV_DNS_SUFFIX": "example.azurecontainerapps.io",
		"FUNCTIONS_WORKER_RUNTIME": "custom", "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}},
	{name: "Functions on Container Apps", inAzure: true, easyAuth: true, marker: "MANAGED_ENVIRONMENT", env: hostStarted(env{
		"MANAGED_ENVIRONMENT": "true", "CONTAINER_APP_NAME": "hello-fn", "KUBERNETES_SERVICE_HOST": "10.0.0.1"})},
	{name: "Kubernetes with KEDA", inAzure: true, easyAuth: false, marker: "KUBERNETES_SERVICE_HOST", env: hostStarted(env{
		"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBERNETES_SERVICE_PORT_HTTPS": "443", "POD_NAMESPACE": "functions"})},
	{name: "Kubernetes, set but empty", inAzure: true, easyAuth: false, marker: "KUBERNETES_SERVICE_HOST", env: env{"KUBERNETES_SERVICE_HOST": ""}},

	{name: "func start", env: hostStarted(env{
		"AZURE_FUNCTIONS_ENVIRONMENT": "Development", "WEBSITE_HOSTNAME": "localhost:7071", "AzureWebJobsScriptRoot": "/src/app"})},
	{name: "docker run of the image on a laptop", env: env{
		"AzureWebJobsScriptRoot": "/home/site/wwwroot", "FUNCTIONS_WORKER_RUNTIME": "custom", "HOSTNAME": "3f2a1b7c5d4e"}},
	// Sandboxes and container runtimes outside Azure set CONTAINER_NAME
	// (the machine these tests were written on does): alone it is no
	// sign of Linux Consumption.
	{name: "a sandbox that sets CONTAINER_NAME", env: env{"CONTAINER_NAME": "uid-abc-def"}},
	{name: "a developer's shell", env: env{"HOME": "/home/dev", "WEBSITE_HOSTNAME": "hello-fn.azurewebsites.net"}},
}

func TestDetectPlatform(t *testing.T) {
	for _, p := range hostingProfiles {
		t.Run(p.name, func(t *testing.T) {
			got := detectPlatform(p.env.get)
			if got.InAzure() != p.inAzure {
				t.Fatalf("InAzure() = %v, want %v (%s)", got.InAzure(), p.inAzure, got.Why())
			}
			if (got.EasyAuthMarker != nil) != p.easyAuth {
				t.Errorf("Easy Auth platform = %v, want %v", got.EasyAuthMarker != nil, p.easyAuth)
			}
			if p.inAzure && !strings.HasPrefix(got.Why(), p.marker+" is set") {
				t.Errorf("Why() = %q, want it to name %s", got.Why(), p.marker)
			}
		})
	}
}

// TestPlatformGuards runs every command that refuses Azure with each
// hosting profile's variables: the guard is one function, reached through
// readConfig from each of them, including the commands that build their
// own environment (dev, token --dev, explain --dev).
func TestPlatformGuards(t *testing.T) {
	devTok := func(t *testing.T, key string) string {
		_, out, errOut := runMain(t, env{"AUTH_DEV_KEY_FILE": key}, "token", "--dev")
		if out == "" {
			t.Fatalf("no token: %s", errOut)
		}
		return strings.TrimSpace(out)
	}
	commands := []struct {
		name string
		args func(t *testing.T, key string) []string
		env  env // added to the profile's
		// refused is the exit status and text in Azure.
		code int
		text string
	}{
		{"serve with AUTH_MODE=dev", func(*testing.T, string) []string { return []string{"serve"} }, env{"AUTH_MODE": "dev"}, 1, "AUTH_MODE=dev refuses to run in Azure"},
		{"check with AUTH_MODE=dev", func(*testing.T, string) []string { return []string{"check"} }, env{"AUTH_MODE": "dev"}, 1, "AUTH_MODE=dev refuses to run in Azure"},
		{"dev", func(*testing.T, string) []string { return []string{"dev", "-port", freePort(t)} }, nil, 1, "refuses to run in Azure"},
		{"token", func(*testing.T, string) []string { return []string{"token"} }, nil, 1, "not issued in Azure"},
		{"token --dev", func(*testing.T, string) []string { return []string{"token", "--dev"} }, nil, 1, "not issued in Azure"},
		{"explain with AUTH_MODE=dev", func(t *testing.T, key string) []string { return []string{"explain", devTok(t, key)} }, env{"AUTH_MODE": "dev"}, 2, "refuses to run in Azure"},
		{"explain --dev", func(t *testing.T, key string) []string { return []string{"explain", "--dev", devTok(t, key)} }, nil, 2, "refuses to run in Azure"},
	}
	for _, p := range hostingProfiles {
		if !p.inAzure {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			for _, c := range commands {
				t.Run(c.name, func(t *testing.T) {
					key := filepath.Join(t.TempDir(), "k.pem")
					args := c.args(t, key)
					e := maps.Clone(p.env)
					maps.Copy(e, c.env)
					e["AUTH_DEV_KEY_FILE"] = key
					code, stdout, stderr := runMain(t, e, args...)
					if code != c.code || !strings.Contains(stderr, c.text) || !strings.Contains(stderr, p.marker) {
						t.Errorf("exit %d, want %d with %q naming %s\nstdout: %s\nstderr: %s", code, c.code, c.text, p.marker, stdout, stderr)
					}
					if strings.Contains(stdout, "eyJ") {
						t.Errorf("a token was printed in Azure: %s", stdout)
					}
				})
			}
		})
	}
}

// TestPlatformGuardsLetLocalRun: the same commands work where no Azure
// platform is set, the sandbox's lone CONTAINER_NAME included.
func TestPlatformGuardsLetLocalRun(t *testing.T) {
	for _, p := range hostingProfiles {
		if p.inAzure {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			e := maps.Clone(p.env)
			e["AUTH_DEV_KEY_FILE"] = filepath.Join(t.TempDir(), "k.pem")
			delete(e, "AZURE_FUNCTIONS_ENVIRONMENT")
			for _, args := range [][]string{{"token"}, {"token", "--dev"}} {
				if code, _, stderr := runMain(t, e, args...); code != 0 {
					t.Errorf("%v: exit %d: %s", args, code, stderr)
				}
			}
			e["AUTH_MODE"] = "dev"
			delete(e, "FUNCTIONS_CUSTOMHANDLER_PORT")
			if code, _, stderr := runMain(t, e, "check"); code != 0 {
				t.Errorf("check: exit %d: %s", code, stderr)
			}
		})
	}
}

// TestEasyAuthGatePlatforms: WEBSITE_AUTH_ENABLED=true opens the gate
// only on a hosting option that runs App Service Authentication. A copy
// of Azure's app settings in a container elsewhere, Kubernetes included,
// must not make forged principal headers trusted.
func TestEasyAuthGatePlatforms(t *testing.T) {
	for _, p := range hostingProfiles {
		t.Run(p.name, func(t *testing.T) {
			e := maps.Clone(p.env)
			e["WEBSITE_AUTH_ENABLED"] = "True"
			trusted, why := easyAuthGate(lookupFunc(e.get).get, detectPlatform(e.get))
			want := p.easyAuth && e["AZURE_FUNCTIONS_ENVIRONMENT"] != "Development"
			if trusted != want {
				t.Fatalf("trusted = %v, want %v: %s", trusted, want, why)
			}
			// Selected automatically only where trusted; asked for, refused.
			e["AUTH_TENANT_ID"] = "72f988bf-86f1-41af-91ab-2d7cd011db47"
			e["AUTH_MODE"] = "easyauth"
			delete(e, "FUNCTIONS_CUSTOMHANDLER_PORT")
			_, errs := readConfig(e.get) // the auth section's problems
			err := problems(errs)
			if (err == nil) != want {
				t.Errorf("AUTH_MODE=easyauth: err = %v, want error: %v", err, !want)
			}
		})
	}
}
