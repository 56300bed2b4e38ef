package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/internal/bounded"
)

// maxKeysWait caps AUTH_KEYS_WAIT well below the server's write timeout
// and Power Platform's wait for a connector call.
const maxKeysWait = 30 * time.Second

// The authentication modes.
const (
	modeDev      = "dev"      // the handler is its own token issuer; local only
	modeJWT      = "jwt"      // validate Entra ID access tokens against the tenant's keys
	modeEasyAuth = "easyauth" // read App Service Authentication's principal headers
	modeAuto     = "auto"     // easyauth where the platform guarantees it, else jwt
)

// config is the handler's configuration, read once from the environment
// and validated before anything listens.
type config struct {
	Port       string
	ListenHost string
	LogLevel   slog.Level

	Mode       string
	ModeReason string
	// ModeInvalid is AUTH_MODE as given when it names no mode, for
	// handler check to show.
	ModeInvalid string

	TenantID          string
	Audiences         []string
	RequiredScopes    []string
	AllowedClientApps []string
	AllowedUsers      []string
	AllowedGroups     []string
	Authority         string

	DevKeyFile string
	CacheSize  int
	// KeysWait bounds how long a request waits for signing keys that have
	// never loaded (AUTH_KEYS_WAIT); negative means not at all.
	KeysWait time.Duration
	// GOGCSet says the operator tuned the garbage collector (GOGC or
	// GOMEMLIMIT), which then stays as they set it.
	GOGCSet bool

	// EasyAuthVerifyToken also validates the access token behind an Easy
	// Auth principal (AUTH_EASYAUTH_VERIFY_TOKEN).
	EasyAuthVerifyToken bool

	// Platform is where the process runs (detectPlatform): dev mode,
	// development tokens and the embedded store refuse Azure, and Easy
	// Auth's headers are trusted only on a platform that runs it.
	Platform platform
	// EasyAuthGate is why Easy Auth's headers can or cannot be trusted;
	// EasyAuthTrusted says which.
	EasyAuthTrusted bool
	EasyAuthGate    string
}

// easyAuthGate decides whether X-MS-CLIENT-PRINCIPAL can be trusted: only
// where App Service Authentication is on, on an Azure hosting option that
// runs it, and not under Core Tools (which sets
// AZURE_FUNCTIONS_ENVIRONMENT=Development and has no Easy Auth, so any
// client can send the headers). WEBSITE_AUTH_ENABLED alone is an app
// setting anybody can copy: a container run elsewhere with Azure's
// settings would otherwise trust forged headers.
func easyAuthGate(getenv func(string) string, p platform) (bool, string) {
	enabled, env := getenv("WEBSITE_AUTH_ENABLED"), getenv("AZURE_FUNCTIONS_ENVIRONMENT")
	switch {
	case !bounded.EqualFold(strings.TrimSpace(enabled), "true"):
		return false, fmt.Sprintf("WEBSITE_AUTH_ENABLED=%s is not true: App Service Authentication is not in front", shown(enabled))
	case bounded.EqualFold(strings.TrimSpace(env), "Development"):
		return false, "AZURE_FUNCTIONS_ENVIRONMENT=Development: Core Tools (func start) has no Easy Auth, anyone can send the headers"
	case p.EasyAuthMarker == nil && p.Marker != nil:
		return false, "WEBSITE_AUTH_ENABLED=true, but " + p.Why() + ", where App Service Authentication does not run: anyone can send the headers"
	case p.EasyAuthMarker == nil:
		return false, "WEBSITE_AUTH_ENABLED=true, but " + p.Why() + ": outside Azure nothing strips forged headers"
	}
	return true, "WEBSITE_AUTH_ENABLED=true outside Development, and " + p.EasyAuthMarker.name + " is set (" + p.EasyAuthMarker.where + "): App Service Authentication strips forged headers"
}

// loadConfig reads and validates the configuration, reporting every
// problem at once.
func loadConfig(lookup lookupFunc) (config, error) {
	c, errs := readConfig(lookup)
	return c, problems(errs)
}

func readConfig(lookup lookupFunc) (config, []error) {
	getenv := lookup.get
	var errs []error
	c := config{
		Port:              or(getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), "7071"),
		ListenHost:        or(getenv("LISTEN_HOST"), "127.0.0.1"),
		TenantID:          strings.ToLower(strings.TrimSpace(getenv("AUTH_TENANT_ID"))),
		Audiences:         splitList(getenv("AUTH_AUDIENCES"), ","),
		RequiredScopes:    splitList(getenv("AUTH_REQUIRED_SCOPES"), " "),
		AllowedClientApps: splitList(getenv("AUTH_ALLOWED_CLIENT_APPS"), ","),
		AllowedUsers:      splitList(getenv("AUTH_ALLOWED_USERS"), ","),
		AllowedGroups:     splitList(getenv("AUTH_ALLOWED_GROUPS"), ","),
		Authority:         strings.TrimRight(or(getenv("AUTH_AUTHORITY"), auth.DefaultAuthority), "/"),
		DevKeyFile:        getenv("AUTH_DEV_KEY_FILE"),
		Platform:          detectPlatform(lookup),
		GOGCSet:           getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "",
	}
	c.EasyAuthTrusted, c.EasyAuthGate = easyAuthGate(getenv, c.Platform)
	switch v := strings.ToLower(strings.TrimSpace(getenv("AUTH_EASYAUTH_VERIFY_TOKEN"))); v {
	case "", "false", "0":
	case "true", "1":
		c.EasyAuthVerifyToken = true
	default:
		errs = append(errs, fmt.Errorf("AUTH_EASYAUTH_VERIFY_TOKEN=%q is not true or false", v))
	}
	if len(c.RequiredScopes) == 0 {
		c.RequiredScopes = []string{auth.DefaultRequiredScope}
	}
	c.CacheSize = auth.DefaultCacheSize
	if v := getenv("AUTH_TOKEN_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("AUTH_TOKEN_CACHE_SIZE=%q is not a number from 0 (off) to 1000000", v))
		}
		c.CacheSize = n
	}
	c.KeysWait = auth.DefaultFirstLoadWait
	if v := strings.TrimSpace(getenv("AUTH_KEYS_WAIT")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d < 0 || d > maxKeysWait:
			errs = append(errs, fmt.Errorf("AUTH_KEYS_WAIT=%q is not a duration from 0s (no wait) to %v, such as 5s", v, maxKeysWait))
		case d == 0:
			c.KeysWait = -1
		default:
			c.KeysWait = d
		}
	}
	if p, err := strconv.Atoi(c.Port); err != nil || p < 1 || p > 65535 {
		errs = append(errs, fmt.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT=%q is not a TCP port", c.Port))
	}
	if net.ParseIP(c.ListenHost) == nil && c.ListenHost != "localhost" {
		errs = append(errs, fmt.Errorf("LISTEN_HOST=%q is not an IP address", c.ListenHost))
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL=%q is not one of debug, info, warn, error", getenv("LOG_LEVEL")))
	}
	if c.TenantID != "" && !auth.IsGUID(c.TenantID) {
		errs = append(errs, fmt.Errorf("AUTH_TENANT_ID=%q is not a tenant GUID (find it under Entra ID > Overview > Tenant ID)", c.TenantID))
	}
	for _, l := range []struct {
		name string
		ids  []string
	}{{"AUTH_ALLOWED_CLIENT_APPS", c.AllowedClientApps}, {"AUTH_ALLOWED_USERS", c.AllowedUsers}, {"AUTH_ALLOWED_GROUPS", c.AllowedGroups}} {
		for _, id := range l.ids {
			if !auth.IsGUID(id) {
				errs = append(errs, fmt.Errorf("%s: %q is not an object or application id (a GUID)", l.name, id))
			}
		}
	}
	if err := checkRoutePrefix(getenv); err != nil {
		errs = append(errs, err)
	}
	if u, err := url.Parse(c.Authority); err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		errs = append(errs, fmt.Errorf("AUTH_AUTHORITY=%q must be an https URL (http only for a loopback host)", c.Authority))
	}

	return c, append(errs, c.chooseMode(getenv)...)
}

// modeNames lists the values AUTH_MODE takes.
const modeNames = "auto, jwt, easyauth, dev"

// chooseMode settles the authentication mode, and checks what that mode
// needs. Dev mode is never chosen automatically: it must be asked for.
func (c *config) chooseMode(getenv func(string) string) []error {
	var errs []error
	mode := strings.ToLower(strings.TrimSpace(getenv("AUTH_MODE")))
	if mode == "" || mode == modeAuto {
		switch {
		case c.EasyAuthTrusted:
			mode, c.ModeReason = modeEasyAuth, "AUTH_MODE="+or(mode, "(unset)")+" and "+c.EasyAuthGate
		case c.TenantID != "":
			mode, c.ModeReason = modeJWT, "AUTH_MODE="+or(mode, "(unset)")+", AUTH_TENANT_ID is set and Easy Auth cannot be trusted ("+c.EasyAuthGate+")"
		default:
			mode = ""
		}
	}
	switch mode {
	case modeDev:
		c.Mode, c.ModeReason = modeDev, "AUTH_MODE=dev"
		if c.Platform.InAzure() {
			errs = append(errs, errors.New("AUTH_MODE=dev refuses to run in Azure ("+c.Platform.Why()+"): dev tokens are signed by a key on this machine, so anyone could mint one"))
		}
		if !isLoopback(c.ListenHost) {
			errs = append(errs, fmt.Errorf("AUTH_MODE=dev listens on loopback only, not LISTEN_HOST=%s", c.ListenHost))
		}
		switch {
		case c.DevKeyFile != "" && !filepath.IsAbs(c.DevKeyFile):
			errs = append(errs, fmt.Errorf("AUTH_DEV_KEY_FILE=%s is not an absolute path: the development key is never made relative to the current directory (perhaps this repository)", shown(c.DevKeyFile)))
		case c.DevKeyFile == "":
			if dir, err := userConfigDir(getenv); err != nil {
				errs = append(errs, fmt.Errorf("AUTH_MODE=dev needs AUTH_DEV_KEY_FILE: %w", err))
			} else {
				c.DevKeyFile = filepath.Join(dir, "entrafunc", "dev-signing-key.pem")
			}
		}
		if c.TenantID == "" {
			c.TenantID = auth.DevTenantID
		}
		if len(c.Audiences) == 0 {
			c.Audiences = []string{auth.DevAudience}
		}
	case modeEasyAuth:
		c.Mode = modeEasyAuth
		if c.ModeReason == "" {
			c.ModeReason = "AUTH_MODE=easyauth"
		}
		if !c.EasyAuthTrusted {
			errs = append(errs, errors.New("AUTH_MODE=easyauth, but the X-MS-CLIENT-PRINCIPAL headers cannot be trusted here ("+c.EasyAuthGate+"): use AUTH_MODE=jwt"))
		}
		if c.TenantID == "" {
			errs = append(errs, errors.New("Easy Auth mode needs AUTH_TENANT_ID: Easy Auth does not check the tenant unless its issuer is tenant-specific, so the handler does"))
		}
		if !isLoopback(c.ListenHost) {
			errs = append(errs, fmt.Errorf("Easy Auth mode listens on loopback only, not LISTEN_HOST=%s: anything that reaches the port directly could send forged principal headers", c.ListenHost))
		}
		if c.EasyAuthVerifyToken && len(c.Audiences) == 0 {
			errs = append(errs, errors.New("AUTH_EASYAUTH_VERIFY_TOKEN=true needs AUTH_AUDIENCES to validate the access token"))
		}
	case modeJWT:
		c.Mode = modeJWT
		if c.ModeReason == "" {
			c.ModeReason = "AUTH_MODE=jwt"
		}
		if c.TenantID == "" {
			errs = append(errs, errors.New("AUTH_MODE=jwt needs AUTH_TENANT_ID, the tenant GUID whose tokens are accepted"))
		}
		if len(c.Audiences) == 0 {
			errs = append(errs, errors.New("AUTH_MODE=jwt needs AUTH_AUDIENCES: the API's App ID URI (api://…), its client id, and the Resource URL the connector uses"))
		}
	case "":
		errs = append(errs, errors.New("no authentication is configured, and this API never runs without it: "+
			"set AUTH_TENANT_ID and AUTH_AUDIENCES to accept Entra ID tokens (behind Easy Auth, WEBSITE_AUTH_ENABLED=true selects it), "+
			"or AUTH_MODE=dev to run locally with development tokens. "+
			"To try it locally, run make dev (or ./handler dev), which needs no settings. "+
			"local.settings.json is read only by func start (Core Tools), never by ./handler itself; "+
			"make dev and func start both listen on port 7071 by default, so run one at a time"))
	default:
		c.ModeInvalid = getenv("AUTH_MODE")
		errs = append(errs, fmt.Errorf("AUTH_MODE=%s is not one of %s", shown(c.ModeInvalid), modeNames))
	}
	return errs
}

// loopbackOnly says the mode must never be reachable from another host:
// dev mode's tokens are signed by a key on this machine, and Easy Auth's
// headers are trusted because only the platform's front end reaches the
// port.
func (c config) loopbackOnly() bool { return c.Mode == modeDev || c.Mode == modeEasyAuth }

// policy is the access policy the configuration describes.
func (c config) policy() auth.Policy {
	return auth.Policy{
		RequiredScopes:    c.RequiredScopes,
		AllowedClientApps: c.AllowedClientApps,
		AllowedUsers:      c.AllowedUsers,
		AllowedGroups:     c.AllowedGroups,
	}
}

// settings lists the effective settings for `handler check`, in the order
// an operator reads them.
func (c config) settings() [][2]string {
	list := func(v []string, empty string) string {
		if len(v) == 0 {
			return empty
		}
		return strings.Join(v, ",")
	}
	mode := or(c.Mode, "(unset)")
	switch {
	case c.ModeInvalid != "":
		mode = shown(c.ModeInvalid) + " (invalid: not one of " + modeNames + ")"
	case c.ModeReason != "":
		mode += " (" + c.ModeReason + ")"
	}
	s := [][2]string{
		{"AUTH_MODE", mode},
		{"AUTH_TENANT_ID", or(c.TenantID, "(unset)")},
		{"AUTH_AUDIENCES", list(c.Audiences, "(unset)")},
		{"AUTH_REQUIRED_SCOPES", strings.Join(c.RequiredScopes, " ")},
		{"AUTH_ALLOWED_CLIENT_APPS", list(c.AllowedClientApps, "(any)")},
		{"AUTH_ALLOWED_USERS", list(c.AllowedUsers, "(any)")},
		{"AUTH_ALLOWED_GROUPS", list(c.AllowedGroups, "(any)")},
	}
	switch c.Mode {
	case modeDev:
		s = append(s, [2]string{"AUTH_DEV_KEY_FILE", c.DevKeyFile})
	case modeEasyAuth:
		s = append(s, [2]string{"AUTH_EASYAUTH_VERIFY_TOKEN", strconv.FormatBool(c.EasyAuthVerifyToken)})
		if c.EasyAuthVerifyToken {
			s = append(s, [2]string{"AUTH_AUTHORITY", c.Authority})
		}
	default:
		s = append(s, [2]string{"AUTH_AUTHORITY", c.Authority})
	}
	trust := "not trusted: "
	if c.EasyAuthTrusted {
		trust = "trusted: "
	}
	s = append(s, [2]string{"EASY_AUTH_HEADERS", trust + c.EasyAuthGate})
	if c.Mode == modeJWT || c.Mode == modeEasyAuth && c.EasyAuthVerifyToken {
		wait := c.KeysWait.String()
		if c.KeysWait < 0 {
			wait = "0s (no wait)"
		}
		s = append(s, [2]string{"AUTH_KEYS_WAIT", wait})
	}
	cache := strconv.Itoa(c.CacheSize) + " tokens"
	if c.CacheSize == 0 {
		cache = "off"
	}
	s = append(s, [2]string{"AUTH_TOKEN_CACHE_SIZE", cache})
	return append(s,
		[2]string{"LISTEN", net.JoinHostPort(c.ListenHost, c.Port)},
		[2]string{"LOG_LEVEL", c.LogLevel.String()},
	)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// splitList splits a setting on sep, dropping blanks and surrounding space.
func splitList(v, sep string) []string {
	var out []string
	for _, f := range strings.Split(v, sep) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// userConfigDir is os.UserConfigDir reading the injected environment,
// except that a relative HOME or AppData is an error, not a folder below
// the current directory: the development key must never land in the
// repository it is run from.
func userConfigDir(getenv func(string) string) (string, error) {
	abs := func(name, v string) (string, error) {
		if !filepath.IsAbs(v) {
			return "", fmt.Errorf("%s=%s is not an absolute path, and the development key is never made relative to the current directory", name, shown(v))
		}
		return v, nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := getenv("AppData"); d != "" {
			return abs("%AppData%", d)
		}
		return "", errors.New("%AppData% is not set")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			h, err := abs("$HOME", h)
			return filepath.Join(h, "Library", "Application Support"), err
		}
	default:
		if d := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
			return d, nil
		}
		if h := getenv("HOME"); h != "" {
			h, err := abs("$HOME", h)
			return filepath.Join(h, ".config"), err
		}
	}
	return "", errors.New("$HOME is not set")
}

// checkRoutePrefix reads the app's host.json, where the host says it is
// (FUNCTIONS_APP_ROOT_PATH), and refuses a route prefix other than api:
// the functions are served at /api/{Function}, and with an empty prefix a
// client's /{Function} would reach the invocation endpoint, which takes
// its credentials from the request body.
func checkRoutePrefix(getenv func(string) string) error {
	// An app setting overrides host.json. Set to the empty string it
	// cannot be told from unset here; the invocation endpoint's refusal of
	// client headers is the guard that remains.
	if p := getenv(routePrefixSetting); p != "" && !isAPIPrefix(p) {
		return fmt.Errorf("%s=%q; this handler serves its functions under the default prefix api: remove the setting", routePrefixSetting, p)
	}
	root := getenv("FUNCTIONS_APP_ROOT_PATH")
	if root == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(root, "host.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("host.json: %w", err)
	}
	var h struct {
		Extensions struct {
			HTTP struct {
				RoutePrefix *string `json:"routePrefix"`
			} `json:"http"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("host.json: %w", err)
	}
	if p := h.Extensions.HTTP.RoutePrefix; p != nil && !isAPIPrefix(*p) {
		return fmt.Errorf("host.json sets extensions.http.routePrefix to %q; this handler serves its functions under the default prefix api: remove the setting", *p)
	}
	return nil
}

// routePrefixSetting is the app setting that overrides host.json's route
// prefix.
const routePrefixSetting = "AzureFunctionsJobHost__extensions__http__routePrefix"

// isAPIPrefix folds ASCII only, as the host compares routes.
func isAPIPrefix(p string) bool { return bounded.EqualFold(strings.Trim(p, "/"), "api") }
