package tools

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/api"
)

// The Functions project files can only be checked as files here: no host
// runs on this machine. These tests hold them to the route table and to
// what the host expects (https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers#application-structure).

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestHostJSON(t *testing.T) {
	t.Parallel()
	var h struct {
		Version         string
		ExtensionBundle struct{ ID, Version string }
		CustomHandler   struct {
			Description struct {
				DefaultExecutablePath string
			}
			EnableForwardingHttpRequest bool
		}
	}
	readJSON(t, "host.json", &h)
	if h.Version != "2.0" || h.CustomHandler.Description.DefaultExecutablePath != "handler" ||
		!h.CustomHandler.EnableForwardingHttpRequest ||
		h.ExtensionBundle.ID != "Microsoft.Azure.Functions.ExtensionBundle" || h.ExtensionBundle.Version != "[4.*, 5.0.0)" {
		t.Errorf("host.json = %+v", h)
	}
}

// TestFunctionFoldersMatchRoutes: every route has a function.json that
// forwards exactly its methods on exactly its route template (none for a
// function served at its name), and every function folder has a route.
func TestFunctionFoldersMatchRoutes(t *testing.T) {
	t.Parallel()
	routes := api.Routes()
	for _, rt := range routes {
		var f struct {
			Bindings []struct {
				Type, Direction, Name, AuthLevel, Route string
				Methods                                 []string
			}
		}
		readJSON(t, filepath.Join(rt.Function, "function.json"), &f)
		// Forwarding needs exactly one httpTrigger in and one http out.
		if len(f.Bindings) != 2 {
			t.Fatalf("%s: %d bindings, want httpTrigger and http only", rt.Function, len(f.Bindings))
		}
		in, out := f.Bindings[0], f.Bindings[1]
		want := make([]string, len(rt.Methods))
		for i, m := range rt.Methods {
			want[i] = strings.ToLower(m)
		}
		if in.Type != "httpTrigger" || in.Direction != "in" || in.Name != "req" || in.AuthLevel != "anonymous" || in.Route != rt.Template || !slices.Equal(in.Methods, want) {
			t.Errorf("%s trigger = %+v, want anonymous httpTrigger req with route %q and methods %v", rt.Function, in, rt.Template, want)
		}
		if out.Type != "http" || out.Direction != "out" || out.Name != "res" {
			t.Errorf("%s output = %+v, want http res", rt.Function, out)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join("..", "*", "function.json"))
	if len(dirs) != len(routes) {
		t.Errorf("function folders %v, routes %d: each folder needs a route", dirs, len(routes))
	}
}

func TestLocalSettings(t *testing.T) {
	t.Parallel()
	var s struct {
		IsEncrypted bool
		Values      map[string]string
	}
	readJSON(t, "local.settings.json", &s)
	if s.Values["FUNCTIONS_WORKER_RUNTIME"] != "custom" || s.Values["AUTH_MODE"] != "dev" {
		t.Errorf("Values = %v", s.Values)
	}
	for k := range s.Values {
		if u := strings.ToUpper(k); strings.Contains(u, "SECRET") || strings.Contains(u, "PASSWORD") || strings.Contains(u, "CONNECTIONSTRING") {
			t.Errorf("local.settings.json is committed and must hold no secret, but has %s", k)
		}
	}
}

// TestFuncignore: publishing ships host.json, the function folders and the
// handler, and nothing else. .funcignore is an allow-list: everything is
// excluded, and exactly host.json, the handler and each function's
// function.json are let back in. (TestPackageRepoTree packs
// the real tree with Core Tools' rules to check the result.)
func TestFuncignore(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../.funcignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	want := []string{"*", "!host.json", "!handler"}
	for _, rt := range api.Routes() {
		want = append(want, "!"+rt.Function+"/function.json")
	}
	slices.Sort(want)
	got := slices.Clone(patterns)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf(".funcignore patterns %q, want exactly %q", patterns, want)
	}
}
