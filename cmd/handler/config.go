package main

import (
	"cmp"
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
	"slices"
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
// and validated before anything listens. It has one section per concern,
// each read and checked by its own function (readListen, readLog,
// readAuth, readTasks). readConfig reports
// the problems of every section at once.
type config struct {
	Listen listenConfig
	Log    logConfig
	Auth   authConfig
	Tasks  tasksConfig

	// Platform is where the process runs (detectPlatform): dev mode,
	// development tokens and the embedded store refuse Azure, and Easy
	// Auth's headers are trusted only on a platform that runs it.
	Platform platform
	// GOGCSet says the operator tuned the garbage collector (GOGC or
	// GOMEMLIMIT), which then stays as they set it.
	GOGCSet bool
}

// listenConfig is where the server listens.
type listenConfig struct {
	Host string // LISTEN_HOST
	Port string // FUNCTIONS_CUSTOMHANDLER_PORT
}

// logConfig is the request log's.
type logConfig struct {
	Level slog.Level // LOG_LEVEL
}

// authConfig is who may call and how that is decided: the mode, the
// tenant and audiences tokens are checked against, the access policy, and
// how the signing keys and verified tokens are kept.
type authConfig struct {
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

	// EasyAuthVerifyToken also validates the access token behind an Easy
	// Auth principal (AUTH_EASYAUTH_VERIFY_TOKEN).
	EasyAuthVerifyToken bool
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
		// Kubernetes has no Easy Auth, and CONTAINER_NAME is no proof of
		// Linux Consumption (which also sets WEBSITE_SITE_NAME).
		return false, "WEBSITE_AUTH_ENABLED=true, but only " + p.Why() + ", which cannot show that App Service Authentication stands in front: anyone can send the headers"
	case p.EasyAuthMarker == nil:
		return false, "WEBSITE_AUTH_ENABLED=true, but " + p.Why() + ": outside Azure nothing strips forged headers"
	}
	return true, "WEBSITE_AUTH_ENABLED=true outside Development, and " + p.EasyAuthMarker.name + " is set (" + p.EasyAuthMarker.where + "): App Service Authentication strips forged headers"
}

// loadConfig reads and validates the configuration, reporting every
// problem at once.
func loadConfig(lookup lookupFunc) (config, error) {
	c, errs := readConfig(lookup)
	return c, problems(append(errs, c.Tasks.problems...))
}

// readConfig reads every section, and returns the problems of all of
// them, section by section, but the tasks store's: those are kept in
// c.Tasks.problems, for the commands that serve (loadConfig) and check,
// since explain and token judge and mint tokens without a store.
func readConfig(lookup lookupFunc) (config, []error) {
	getenv := lookup.get
	c := config{
		Platform: detectPlatform(lookup),
		GOGCSet:  getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "",
	}
	var listenErrs, logErrs, authErrs []error
	c.Listen, listenErrs = readListen(getenv)
	c.Log, logErrs = readLog(getenv)
	c.Auth, authErrs = readAuth(getenv, c.Platform, c.Listen)
	c.Tasks = readTasks(getenv, c.Platform, c.Auth.DevKeyFile)
	return c, slices.Concat(listenErrs, logErrs, authErrs)
}

// readListen reads where the server listens, and checks the route prefix
// the Functions host serves it under.
func readListen(getenv func(string) string) (listenConfig, []error) {
	l := listenConfig{
		Host: cmp.Or(getenv("LISTEN_HOST"), "127.0.0.1"),
		Port: cmp.Or(getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), "7071"),
	}
	var port, host error
	if p, err := strconv.Atoi(l.Port); err != nil || p < 1 || p > 65535 {
		port = fmt.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT=%s is not a TCP port", shown(l.Port))
	}
	if net.ParseIP(l.Host) == nil && l.Host != "localhost" {
		host = fmt.Errorf("LISTEN_HOST=%s is not an IP address", shown(l.Host))
	}
	return l, nonNil(port, host, checkRoutePrefix(getenv))
}

// readLog reads the log's level.
func readLog(getenv func(string) string) (logConfig, []error) {
	var l logConfig
	if err := l.Level.UnmarshalText([]byte(cmp.Or(getenv("LOG_LEVEL"), "info"))); err != nil {
		return l, []error{fmt.Errorf("LOG_LEVEL=%s is not one of debug, info, warn, error", shown(getenv("LOG_LEVEL")))}
	}
	return l, nil
}

// readAuth reads who may call and how that is checked, then settles the
// mode (chooseMode). Where the platform runs the process decides whether
// Easy Auth's headers can be trusted, and dev and easyauth modes need the
// listen section's host to be loopback.
func readAuth(getenv func(string) string, p platform, listen listenConfig) (authConfig, []error) {
	a := authConfig{
		TenantID:          strings.ToLower(strings.TrimSpace(getenv("AUTH_TENANT_ID"))),
		Audiences:         splitList(getenv("AUTH_AUDIENCES"), ","),
		RequiredScopes:    splitList(getenv("AUTH_REQUIRED_SCOPES"), " "),
		AllowedClientApps: splitList(getenv("AUTH_ALLOWED_CLIENT_APPS"), ","),
		AllowedUsers:      splitList(getenv("AUTH_ALLOWED_USERS"), ","),
		AllowedGroups:     splitList(getenv("AUTH_ALLOWED_GROUPS"), ","),
		Authority:         strings.TrimRight(cmp.Or(getenv("AUTH_AUTHORITY"), auth.DefaultAuthority), "/"),
		DevKeyFile:        getenv("AUTH_DEV_KEY_FILE"),
	}
	if len(a.RequiredScopes) == 0 {
		a.RequiredScopes = []string{auth.DefaultRequiredScope}
	}
	a.EasyAuthTrusted, a.EasyAuthGate = easyAuthGate(getenv, p)
	var verify, cache, wait error
	a.EasyAuthVerifyToken, verify = readVerifyToken(getenv("AUTH_EASYAUTH_VERIFY_TOKEN"))
	a.CacheSize, cache = readCacheSize(getenv("AUTH_TOKEN_CACHE_SIZE"))
	a.KeysWait, wait = readKeysWait(getenv("AUTH_KEYS_WAIT"))
	errs := slices.Concat(nonNil(verify, cache, wait), a.checkIDs(), nonNil(checkAuthority(a.Authority)))
	mode := a.chooseMode(getenv, p, listen.Host)
	return a, append(errs, mode...)
}

// readVerifyToken reads AUTH_EASYAUTH_VERIFY_TOKEN.
func readVerifyToken(v string) (bool, error) {
	switch v = strings.ToLower(strings.TrimSpace(v)); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("AUTH_EASYAUTH_VERIFY_TOKEN=%s is not true or false", shown(v))
}

// readCacheSize reads AUTH_TOKEN_CACHE_SIZE: 0 turns the cache off.
func readCacheSize(v string) (int, error) {
	if v == "" {
		return auth.DefaultCacheSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1_000_000 {
		return n, fmt.Errorf("AUTH_TOKEN_CACHE_SIZE=%s is not a number from 0 (off) to 1000000", shown(v))
	}
	return n, nil
}

// readKeysWait reads AUTH_KEYS_WAIT: 0s, no wait at all, is negative.
func readKeysWait(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return auth.DefaultFirstLoadWait, nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil || d < 0 || d > maxKeysWait:
		return auth.DefaultFirstLoadWait, fmt.Errorf("AUTH_KEYS_WAIT=%s is not a duration from 0s (no wait) to %v, such as 5s", shown(v), maxKeysWait)
	case d == 0:
		return -1, nil
	}
	return d, nil
}

// checkIDs checks that the tenant and the allow-lists hold GUIDs.
func (a authConfig) checkIDs() []error {
	var errs []error
	if a.TenantID != "" && !auth.IsGUID(a.TenantID) {
		errs = append(errs, fmt.Errorf("AUTH_TENANT_ID=%s is not a tenant GUID (find it under Entra ID > Overview > Tenant ID)", shown(a.TenantID)))
	}
	for _, l := range []struct {
		name string
		ids  []string
	}{{"AUTH_ALLOWED_CLIENT_APPS", a.AllowedClientApps}, {"AUTH_ALLOWED_USERS", a.AllowedUsers}, {"AUTH_ALLOWED_GROUPS", a.AllowedGroups}} {
		for _, id := range l.ids {
			if !auth.IsGUID(id) {
				errs = append(errs, fmt.Errorf("%s: %s is not an object or application id (a GUID)", l.name, shown(id)))
			}
		}
	}
	return errs
}

// checkAuthority refuses an authority the keys must not be fetched from.
func checkAuthority(authority string) error {
	if u, err := url.Parse(authority); err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return fmt.Errorf("AUTH_AUTHORITY=%s must be an https URL (http only for a loopback host)", shown(authority))
	}
	return nil
}

// modeNames lists the values AUTH_MODE takes.
const modeNames = "auto, jwt, easyauth, dev"

// chooseMode settles the authentication mode, and checks what that mode
// needs. Dev mode is never chosen automatically: it must be asked for.
func (a *authConfig) chooseMode(getenv func(string) string, p platform, listenHost string) []error {
	mode := strings.ToLower(strings.TrimSpace(getenv("AUTH_MODE")))
	if mode == "" || mode == modeAuto {
		mode, a.ModeReason = a.autoMode(mode)
	}
	switch mode {
	case modeDev:
		return a.devMode(getenv, p, listenHost)
	case modeEasyAuth:
		return a.easyAuthMode(listenHost)
	case modeJWT:
		return a.jwtMode()
	case "":
		return []error{errors.New("no authentication is configured, and this API never runs without it: " +
			"set AUTH_TENANT_ID and AUTH_AUDIENCES to accept Entra ID tokens (behind Easy Auth, WEBSITE_AUTH_ENABLED=true selects it), " +
			"or AUTH_MODE=dev to run locally with development tokens. " +
			"To try it locally, run make dev (or ./handler dev), which needs no settings. " +
			"local.settings.json is read only by func start (Core Tools), never by ./handler itself; " +
			"make dev and func start both listen on port 7071 by default, so run one at a time")}
	}
	a.ModeInvalid = getenv("AUTH_MODE")
	return []error{fmt.Errorf("AUTH_MODE=%s is not one of %s", shown(a.ModeInvalid), modeNames)}
}

// autoMode is the mode AUTH_MODE=auto (or unset, asked "") stands for,
// and why: easyauth where the platform guarantees Easy Auth, else jwt
// where a tenant is set, else none.
func (a *authConfig) autoMode(asked string) (mode, reason string) {
	asked = "AUTH_MODE=" + cmp.Or(asked, "(unset)")
	switch {
	case a.EasyAuthTrusted:
		return modeEasyAuth, asked + " and " + a.EasyAuthGate
	case a.TenantID != "":
		return modeJWT, asked + ", AUTH_TENANT_ID is set and Easy Auth cannot be trusted (" + a.EasyAuthGate + ")"
	}
	return "", ""
}

// devMode checks what dev mode needs: not Azure, loopback, and a place
// for the development key. Its tokens are for the dev tenant and audience
// unless the settings name others.
func (a *authConfig) devMode(getenv func(string) string, p platform, listenHost string) []error {
	a.Mode, a.ModeReason = modeDev, "AUTH_MODE=dev"
	var errs []error
	if p.InAzure() {
		errs = append(errs, errors.New("AUTH_MODE=dev refuses to run in Azure ("+p.Why()+"): dev tokens are signed by a key on this machine, so anyone could mint one"))
	}
	if !isLoopback(listenHost) {
		errs = append(errs, fmt.Errorf("AUTH_MODE=dev listens on loopback only, not LISTEN_HOST=%s", shown(listenHost)))
	}
	switch {
	case a.DevKeyFile != "" && !filepath.IsAbs(a.DevKeyFile):
		errs = append(errs, devKeyPlaceError{fmt.Errorf("AUTH_DEV_KEY_FILE=%s is not an absolute path: the development key is never made relative to the current directory (perhaps this repository)", shown(a.DevKeyFile))})
	case a.DevKeyFile == "":
		if dir, err := userConfigDir(getenv); err != nil {
			errs = append(errs, devKeyPlaceError{fmt.Errorf("AUTH_MODE=dev needs AUTH_DEV_KEY_FILE: %w", err)})
		} else {
			a.DevKeyFile = filepath.Join(dir, "entrafunc", "dev-signing-key.pem")
		}
	}
	a.TenantID = cmp.Or(a.TenantID, auth.DevTenantID)
	if len(a.Audiences) == 0 {
		a.Audiences = []string{auth.DevAudience}
	}
	return errs
}

// easyAuthMode checks what easyauth mode needs: headers that can be
// trusted, a tenant to check, loopback, and audiences if the token behind
// the principal is checked too.
func (a *authConfig) easyAuthMode(listenHost string) []error {
	a.Mode, a.ModeReason = modeEasyAuth, cmp.Or(a.ModeReason, "AUTH_MODE=easyauth")
	var errs []error
	if !a.EasyAuthTrusted {
		errs = append(errs, errors.New("AUTH_MODE=easyauth, but the X-MS-CLIENT-PRINCIPAL headers cannot be trusted here ("+a.EasyAuthGate+"): use AUTH_MODE=jwt"))
	}
	if a.TenantID == "" {
		errs = append(errs, errors.New("Easy Auth mode needs AUTH_TENANT_ID: Easy Auth does not check the tenant unless its issuer is tenant-specific, so the handler does"))
	}
	if !isLoopback(listenHost) {
		errs = append(errs, fmt.Errorf("Easy Auth mode listens on loopback only, not LISTEN_HOST=%s: anything that reaches the port directly could send forged principal headers", shown(listenHost)))
	}
	if a.EasyAuthVerifyToken && len(a.Audiences) == 0 {
		errs = append(errs, errors.New("AUTH_EASYAUTH_VERIFY_TOKEN=true needs AUTH_AUDIENCES to validate the access token"))
	}
	return errs
}

// jwtMode checks what jwt mode needs: the tenant and the audiences.
func (a *authConfig) jwtMode() []error {
	a.Mode, a.ModeReason = modeJWT, cmp.Or(a.ModeReason, "AUTH_MODE=jwt")
	var errs []error
	if a.TenantID == "" {
		errs = append(errs, errors.New("AUTH_MODE=jwt needs AUTH_TENANT_ID, the tenant GUID whose tokens are accepted"))
	}
	if len(a.Audiences) == 0 {
		errs = append(errs, errors.New("AUTH_MODE=jwt needs AUTH_AUDIENCES: the API's App ID URI (api://…), its client id, and the Resource URL the connector uses"))
	}
	return errs
}

// loopbackOnly says the mode must never be reachable from another host:
// dev mode's tokens are signed by a key on this machine, and Easy Auth's
// headers are trusted because only the platform's front end reaches the
// port.
func (a authConfig) loopbackOnly() bool { return a.Mode == modeDev || a.Mode == modeEasyAuth }

// policy is the access policy the configuration describes.
func (a authConfig) policy() auth.Policy {
	return auth.Policy{
		RequiredScopes:    a.RequiredScopes,
		AllowedClientApps: a.AllowedClientApps,
		AllowedUsers:      a.AllowedUsers,
		AllowedGroups:     a.AllowedGroups,
	}
}

// settings lists the effective settings for `handler check`, in the order
// an operator reads them.
func (c config) settings() [][2]string {
	a := c.Auth
	list := func(v []string, empty string) string {
		if len(v) == 0 {
			return empty
		}
		return strings.Join(v, ",")
	}
	mode := cmp.Or(a.Mode, "(unset)")
	switch {
	case a.ModeInvalid != "":
		mode = shown(a.ModeInvalid) + " (invalid: not one of " + modeNames + ")"
	case a.ModeReason != "":
		mode += " (" + a.ModeReason + ")"
	}
	s := [][2]string{
		{"AUTH_MODE", mode},
		{"AUTH_TENANT_ID", cmp.Or(a.TenantID, "(unset)")},
		{"AUTH_AUDIENCES", list(a.Audiences, "(unset)")},
		{"AUTH_REQUIRED_SCOPES", strings.Join(a.RequiredScopes, " ")},
		{"AUTH_ALLOWED_CLIENT_APPS", list(a.AllowedClientApps, "(any)")},
		{"AUTH_ALLOWED_USERS", list(a.AllowedUsers, "(any)")},
		{"AUTH_ALLOWED_GROUPS", list(a.AllowedGroups, "(any)")},
	}
	switch a.Mode {
	case modeDev:
		s = append(s, [2]string{"AUTH_DEV_KEY_FILE", a.DevKeyFile})
	case modeEasyAuth:
		s = append(s, [2]string{"AUTH_EASYAUTH_VERIFY_TOKEN", strconv.FormatBool(a.EasyAuthVerifyToken)})
		if a.EasyAuthVerifyToken {
			s = append(s, [2]string{"AUTH_AUTHORITY", a.Authority})
		}
	default:
		s = append(s, [2]string{"AUTH_AUTHORITY", a.Authority})
	}
	trust := "not trusted: "
	if a.EasyAuthTrusted {
		trust = "trusted: "
	}
	s = append(s, [2]string{"EASY_AUTH_HEADERS", trust + a.EasyAuthGate})
	if a.Mode == modeJWT || a.Mode == modeEasyAuth && a.EasyAuthVerifyToken {
		wait := a.KeysWait.String()
		if a.KeysWait < 0 {
			wait = "0s (no wait)"
		}
		s = append(s, [2]string{"AUTH_KEYS_WAIT", wait})
	}
	cache := strconv.Itoa(a.CacheSize) + " tokens"
	if a.CacheSize == 0 {
		cache = "off"
	}
	s = append(s, [2]string{"AUTH_TOKEN_CACHE_SIZE", cache})
	return append(s,
		[2]string{"TASKS_STORE", c.Tasks.description() + " (" + c.Tasks.StoreReason + ")"},
		[2]string{"LISTEN", net.JoinHostPort(c.Listen.Host, c.Listen.Port)},
		[2]string{"LOG_LEVEL", c.Log.Level.String()},
	)
}

// problemsError lists configuration problems one per line.
type problemsError struct{ errs []error }

func (e problemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d configuration problem(s):", len(e.errs))
	for _, err := range e.errs {
		b.WriteString("\n  - " + err.Error())
	}
	return b.String()
}

func (e problemsError) Unwrap() []error { return e.errs }

// problems returns nil for no errors, else one error listing them all.
func problems(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return problemsError{errs: errs}
}

// nonNil is errs without its nil errors, as errors.Join drops them: each
// check returns nil or its problem.
func nonNil(errs ...error) []error {
	return slices.DeleteFunc(errs, func(err error) bool { return err == nil })
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
		return fmt.Errorf("%s=%s; this handler serves its functions under the default prefix api: remove the setting", routePrefixSetting, shown(p))
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
		return fmt.Errorf("host.json sets extensions.http.routePrefix to %s; this handler serves its functions under the default prefix api: remove the setting", shown(*p))
	}
	return nil
}

// routePrefixSetting is the app setting that overrides host.json's route
// prefix.
const routePrefixSetting = "AzureFunctionsJobHost__extensions__http__routePrefix"

// isAPIPrefix folds ASCII only, as the host compares routes.
func isAPIPrefix(p string) bool { return bounded.EqualFold(strings.Trim(p, "/"), "api") }

// devKeyPlaceError says where the development key would live is wrong:
// handler token reports it, though it judges nothing else of the
// configuration.
type devKeyPlaceError struct{ error }

func (e devKeyPlaceError) Unwrap() error { return e.error }
