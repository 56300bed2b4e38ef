package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

const devUsage = `usage: handler dev [-port N] [-name NAME]

Serve in dev mode on 127.0.0.1 (what make dev runs), and once listening
print to stderr a curl that calls /api/Hello with a fresh token for NAME,
and the calls that create and list NAME's tasks.
The JSON log stays on stdout. Stop it with Ctrl-C.

The configuration is the fixed dev one, whatever the shell exports: the dev
tenant and audience, the default required scope, no allow-lists, loopback
only. Every AUTH_* and listen setting in the environment is ignored (and
named on stderr), and so is TASKS_STORE: tasks go to the embedded store.
Read from the environment are only what locates the development key and
the embedded store (AUTH_DEV_KEY_FILE, TASKS_STORE_FILE, XDG_CONFIG_HOME,
HOME, AppData),
GOGC and GOMEMLIMIT, and LOG_LEVEL when valid (an invalid one is ignored,
and named among the ignored). Like AUTH_MODE=dev, it refuses to run in
Azure: on any hosting option that sets one of WEBSITE_INSTANCE_ID,
WEBSITE_SITE_NAME, LEGION_SERVICE_HOST, CONTAINER_APP_NAME,
KUBERNETES_SERVICE_HOST and the other platform variables the README lists.

Tokens for this server: handler token --dev [flags].
`

// defaultDevPort is the port of handler dev, and of func start.
const defaultDevPort = 7071

func dev(ctx context.Context, args []string, lookup lookupFunc, stdout, stderr io.Writer) error {
	f := newFlags("dev", devUsage, stdout, stderr)
	port := f.Int("port", defaultDevPort, "the TCP port to listen on, on 127.0.0.1")
	name := f.String("name", "Marc", "the user the printed request's token is for, and the name it sends")
	if help, err := f.parse(args); help || err != nil {
		return err
	}
	if *port < 1 || *port > 65535 {
		return f.fail(fmt.Errorf("-port %d is not a TCP port", *port))
	}
	if strings.TrimSpace(*name) == "" {
		return f.fail(errors.New("-name must not be empty"))
	}
	env := newDevEnv(lookup, strconv.Itoa(*port))
	cfg, err := loadConfig(env.get)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	cfg.Auth.ModeReason = "handler dev: the fixed dev configuration"
	// Listen first: the curl is printed only for a server that will
	// answer it.
	ln, err := listen(cfg, net.Listen)
	if err != nil && !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("dev: %w", err)
	}
	if err != nil {
		other := *port + 1
		if other > 65535 {
			other = *port - 1
		}
		return fmt.Errorf("dev: cannot listen on port %d (%v): is another server using it (another make dev, or func start, which also listens on %d by default)? Pick another port with DEV_PORT, e.g. make dev DEV_PORT=%d (or handler dev -port %d)", *port, err, defaultDevPort, other, other)
	}
	key, err := auth.LoadOrCreateDevKey(cfg.Auth.DevKeyFile)
	if err != nil {
		ln.Close()
		return err
	}
	tok, err := key.Mint(auth.DevToken{TenantID: cfg.Auth.TenantID, Audience: cfg.Auth.Audiences[0], Name: *name})
	if err != nil {
		ln.Close()
		return err
	}
	banner := devBanner("http://"+ln.Addr().String(), tok, *name, env.ignoredNames())
	return serveOn(ctx, cfg, ln, stdout, func() { io.WriteString(stderr, banner) })
}

// devBanner is what handler dev tells its user once it listens: a request
// to paste into a shell, and how to get more tokens.
func devBanner(base, tok, name string, ignored []string) string {
	body, _ := json.Marshal(name) // cannot fail: a string
	var b strings.Builder
	fmt.Fprintf(&b, "\nDev mode on %s. In another terminal:\n\n", base)
	// A JWT is base64url and dots, safe in single quotes; the body is
	// quoted for the shell whatever the name holds.
	fmt.Fprintf(&b, "curl -s -X POST %s/api/Hello -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d %s\n\n",
		base, tok, shellWord(`{"name": `+string(body)+`}`))
	// Tasks: a token in a shell variable keeps the lines short, and
	// ./handler token mints the same user's (same oid) every time.
	fmt.Fprintf(&b, "Tasks, each user's own (the embedded store keeps them across restarts):\n\n")
	fmt.Fprintf(&b, "T=$(./handler token --dev --name %s)\n", shellWord(name))
	fmt.Fprintf(&b, "curl -s -X POST %s/api/tasks -H \"Authorization: Bearer $T\" -H 'Content-Type: application/json' -d '{\"title\": \"Try the Tasks API\"}'\n", base)
	fmt.Fprintf(&b, "curl -s %s/api/tasks -H \"Authorization: Bearer $T\"\n\n", base)
	b.WriteString("List again with another token in T:\n")
	for _, l := range [][2]string{
		{"T=$(./handler token --dev --name Ana)", "another user: none of " + bounded.String(name) + "'s tasks"},
		{"T=$(./handler token --dev --name Ana --role " + api.TasksAdminRole + ")", "the tenant's administrator: every task"},
		{"T=$(./handler token --dev --app-only --role " + api.TasksAdminRole + ")", "the same, as an app (a service-principal connection)"},
	} {
		fmt.Fprintf(&b, "  %-66s # %s\n", l[0], l[1])
	}
	b.WriteString("\n")
	b.WriteString("More tokens: ./handler token --dev --name Someone [--scope none for a 403] [--expired for a 401]\nWhy a call was refused: ./handler explain --dev TOKEN\n\n")
	if len(ignored) > 0 {
		fmt.Fprintf(&b, "Ignored from the environment (handler dev runs the fixed dev configuration): %s\n\n", strings.Join(ignored, ", "))
	}
	return b.String()
}

// devEnv is the environment handler dev and token --dev read instead of
// the process's: dev mode on loopback with every default, whatever the
// shell exports. Passed to readConfig, it keeps them on the one
// configuration code path. The platform's variables pass through as they
// are, set or not, so that these commands refuse to run in Azure as
// AUTH_MODE=dev does.
type devEnv struct {
	lookup  lookupFunc
	port    string
	ignored map[string]bool // set in the environment, not used
}

func newDevEnv(lookup lookupFunc, port string) *devEnv {
	return &devEnv{lookup: lookup, port: port, ignored: map[string]bool{}}
}

// get reads k as handler dev sees it; its signature is a lookupFunc's.
func (d *devEnv) get(k string) (string, bool) {
	if isPlatformVariable(k) {
		return d.lookup(k)
	}
	v := d.lookup.get(k)
	switch k {
	case "AUTH_MODE":
		if v != "" && !strings.EqualFold(strings.TrimSpace(v), modeDev) {
			d.ignored[k] = true
		}
		return modeDev, true
	case "FUNCTIONS_CUSTOMHANDLER_PORT":
		if v != "" && v != d.port {
			d.ignored[k] = true
		}
		return d.port, d.port != ""
	case "AUTH_DEV_KEY_FILE", "TASKS_STORE_FILE", "XDG_CONFIG_HOME", "HOME", "AppData", "GOGC", "GOMEMLIMIT":
		return d.lookup(k)
	case "LOG_LEVEL":
		var l slog.Level
		if l.UnmarshalText([]byte(v)) == nil {
			return d.lookup(k)
		}
	}
	if v != "" {
		d.ignored[k] = true
	}
	return "", false
}

// ignoredNames lists the settings read so far that the environment set
// and that were ignored.
func (d *devEnv) ignoredNames() []string {
	names := make([]string, 0, len(d.ignored))
	for k := range d.ignored {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
