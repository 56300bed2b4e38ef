package azuretable

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/entrafunc/entrafunc/tasks"
)

// The settings ReadSettings reads, besides those of the connection.
const (
	// EnvConnection names the connection setting (the Functions
	// convention's "connection" property); AzureWebJobsStorage, the app's
	// own storage account, by default.
	EnvConnection = "TASKS_CONNECTION"
	// EnvTable names the table; DefaultTable by default.
	EnvTable = "TASKS_TABLE"

	DefaultConnection = "AzureWebJobsStorage"
	DefaultTable      = "tasks"
)

// How a Settings authenticates.
const (
	// AuthConnectionString: a connection string's account key or SAS.
	AuthConnectionString = "connection string"
	// AuthManagedIdentity: the app's managed identity, system-assigned
	// or the user-assigned one ClientID or ResourceID names.
	AuthManagedIdentity = "managed identity"
	// AuthDeveloper: outside Azure without __credential, the developer's
	// own sign-in (Azure CLI, azd, or the AZURE_* environment), as
	// Functions Core Tools does.
	AuthDeveloper = "developer identity"
	// AuthClientSecret: outside Azure only, a service principal's secret
	// (__tenantId, __clientId, __clientSecret).
	AuthClientSecret = "client secret"
)

// Settings say where the table is and how to reach it, as the Functions
// convention for a storage connection spells them. Secret fields never
// appear in String or in an error.
type Settings struct {
	// Connection is the name of the connection setting, the prefix of
	// the identity-based ones.
	Connection string
	Table      string
	Auth       string // one of the Auth* values

	// ConnectionString, for AuthConnectionString: secret.
	ConnectionString string

	// For the identity-based kinds: the table service's URL, and which
	// identity.
	ServiceURL   string
	ClientID     string
	ResourceID   string
	TenantID     string
	ClientSecret string // secret
}

// String describes the settings for handler check and the start-up log,
// without secrets.
func (s Settings) String() string {
	var where string
	if s.Auth == AuthConnectionString {
		if c, err := parseConnectionString(s.ConnectionString, DevelopmentEndpoint); err == nil {
			where = c.endpoint
		}
	} else {
		where = shownURL(s.ServiceURL)
	}
	who := s.Auth
	switch {
	case s.ClientID != "":
		who += " " + bounded.String(s.ClientID)
	case s.ResourceID != "":
		who += " " + bounded.String(s.ResourceID)
	}
	return fmt.Sprintf("table %s at %s (%s from %s)", s.Table, where, who, s.Connection)
}

// The names the settings hold, checked by hand rather than by regexp:
// the bounded repetitions of such patterns compile, at start-up, into
// programs of thousands of instructions that every process would pay for.
//
//   - a setting name: a letter or _, then up to 127 letters, digits and _;
//   - a table name: a letter, then 2 to 62 letters and digits
//     (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#table-names);
//   - a storage account name: 3 to 24 lower-case letters and digits.
func settingName(s string) bool {
	return len(s) >= 1 && len(s) <= 128 && (isLetter(s[0]) || s[0] == '_') &&
		all(s, func(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' })
}

func tableName(s string) bool {
	return len(s) >= 3 && len(s) <= 63 && isLetter(s[0]) &&
		all(s, func(c byte) bool { return isLetter(c) || isDigit(c) })
}

func accountName(s string) bool {
	return len(s) >= 3 && len(s) <= 24 && all(s, func(c byte) bool { return c >= 'a' && c <= 'z' || isDigit(c) })
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func all(s string, ok func(byte) bool) bool {
	for i := range len(s) {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// ReadSettings reads the Tasks table's settings through getenv (os.Getenv
// in production), following the Functions convention for a connection
// setting NAME (TASKS_CONNECTION, AzureWebJobsStorage by default):
//
//   - NAME, when set, is a connection string. UseDevelopmentStorage=true
//     means Azurite on this machine, as the Azure tools read it.
//   - Otherwise the connection is identity-based: NAME__tableServiceUri is
//     the table service's https URL, or, for AzureWebJobsStorage only,
//     NAME__accountName is the account in Azure's public cloud.
//     NAME__credential may be managedidentity; NAME__clientId or
//     NAME__managedIdentityResourceId picks a user-assigned identity. In
//     Azure (WEBSITE_INSTANCE_ID is set) it is always the managed
//     identity; elsewhere, without NAME__credential, the developer's own
//     sign-in, or NAME__tenantId, NAME__clientId and NAME__clientSecret.
//
// TASKS_TABLE names the table (tasks by default). It returns every
// problem at once, joined; none of them quotes a secret.
func ReadSettings(getenv func(string) string) (Settings, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	s := Settings{Connection: get(EnvConnection), Table: get(EnvTable)}
	if s.Connection == "" {
		s.Connection = DefaultConnection
	} else if !settingName(s.Connection) {
		fail("%s=%s is not a setting name (letters, digits and _)", EnvConnection, bounded.Quote(s.Connection))
		return s, errors.Join(errs...)
	}
	if s.Table == "" {
		s.Table = DefaultTable
	}
	if !tableName(s.Table) || strings.EqualFold(s.Table, "tables") {
		fail("%s=%s is not a table name: 3 to 63 letters and digits, starting with a letter, and not \"tables\"", EnvTable, bounded.Quote(s.Table))
	}

	name := s.Connection
	if cs := get(name); cs != "" {
		s.Auth, s.ConnectionString = AuthConnectionString, cs
		if _, err := parseConnectionString(cs, DevelopmentEndpoint); err != nil {
			fail("%s: %w", name, err)
		}
		return s, errors.Join(errs...)
	}

	inAzure := get("WEBSITE_INSTANCE_ID") != ""
	s.ServiceURL = get(name + "__tableServiceUri")
	account := get(name + "__accountName")
	switch {
	case s.ServiceURL != "":
		if err := checkServiceURL(s.ServiceURL); err != nil {
			fail("%s__tableServiceUri: %w", name, err)
		}
	case account != "" && name != DefaultConnection:
		fail("%s__accountName is read for %s only (the Functions convention); set %s__tableServiceUri=https://<account>.table.core.windows.net", name, DefaultConnection, name)
	case account != "":
		if !accountName(account) {
			fail("%s__accountName=%s is not a storage account name (3 to 24 lower-case letters and digits)", name, bounded.Quote(account))
		}
		s.ServiceURL = "https://" + account + ".table.core.windows.net"
	default:
		fail("no storage connection for the tasks: set %s to a connection string (UseDevelopmentStorage=true for Azurite), or %s__tableServiceUri (or %s__accountName for %s) for an identity-based connection", name, name, name, DefaultConnection)
	}

	credential := get(name + "__credential")
	s.ClientID, s.ResourceID = get(name+"__clientId"), get(name+"__managedIdentityResourceId")
	s.TenantID, s.ClientSecret = get(name+"__tenantId"), get(name+"__clientSecret")
	if credential != "" && !strings.EqualFold(credential, "managedidentity") {
		fail("%s__credential=%s: the only value is managedidentity", name, bounded.Quote(credential))
	}
	if s.ClientID != "" {
		if g, ok := tasks.ParseGUID(s.ClientID); ok {
			s.ClientID = g
		} else {
			fail("%s__clientId is not a client id (a GUID)", name)
		}
	}
	if s.ClientID != "" && s.ResourceID != "" {
		fail("%s__clientId and %s__managedIdentityResourceId both name an identity: set one", name, name)
	}
	switch {
	case s.ClientSecret != "" && inAzure:
		fail("%s__clientSecret: a client secret is not for an app hosted in Azure; use its managed identity (%s__credential=managedidentity)", name, name)
	case s.ClientSecret != "" && credential != "":
		fail("%s__clientSecret and %s__credential=managedidentity: set one", name, name)
	case s.ClientSecret != "":
		s.Auth = AuthClientSecret
		if g, ok := tasks.ParseGUID(s.TenantID); ok {
			s.TenantID = g
		} else {
			fail("%s__tenantId must be the tenant id (a GUID) of the %s__clientSecret's app", name, name)
		}
		if s.ClientID == "" {
			fail("%s__clientId must be the client id of the %s__clientSecret's app", name, name)
		}
	case credential != "" || inAzure:
		s.Auth = AuthManagedIdentity
	default:
		s.Auth = AuthDeveloper
	}
	return s, errors.Join(errs...)
}

// checkServiceURL accepts an https URL with a host and nothing else: a
// path, a query (a SAS) or user information has no place in it.
func checkServiceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return fmt.Errorf("%s is not the https URL of a table service, such as https://<account>.table.core.windows.net, with no path or query", shownURL(raw))
	}
	return nil
}

// The Azurite account the Azure tools mean by UseDevelopmentStorage=true:
// https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key
const (
	DevelopmentAccount  = "devstoreaccount1"
	DevelopmentKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	DevelopmentEndpoint = "http://127.0.0.1:10002/" + DevelopmentAccount
)

// connection is a parsed connection string.
type connection struct {
	endpoint string // the table service's URL
	account  string
	key      string // secret
	sas      string // secret
}

// parseConnectionString reads the connection string's table endpoint and
// credential. Its keys are not case-sensitive, as the Azure SDKs read
// them; the Go SDK's own parser knows neither that nor
// UseDevelopmentStorage, which means Azurite's well-known account at dev
// (its table endpoint, with the account as the path). Errors name keys,
// never values.
func parseConnectionString(cs, dev string) (connection, error) {
	kv := map[string]string{}
	for part := range strings.SplitSeq(cs, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return connection{}, errors.New("is not a connection string: each part must be key=value, separated by ;")
		}
		kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.EqualFold(kv["usedevelopmentstorage"], "true") {
		if u := kv["developmentstorageproxyuri"]; u != "" {
			return connection{}, errors.New("DevelopmentStorageProxyUri is not supported: give Azurite's table endpoint as TableEndpoint=http://<host>:10002/devstoreaccount1 with its AccountName and AccountKey")
		}
		return connection{endpoint: dev, account: DevelopmentAccount, key: DevelopmentKey}, nil
	}
	c := connection{account: kv["accountname"], key: kv["accountkey"], sas: strings.TrimPrefix(kv["sharedaccesssignature"], "?")}
	var errs []error
	switch {
	case c.key != "" && c.sas != "":
		errs = append(errs, errors.New("has both AccountKey and SharedAccessSignature: keep one"))
	case c.key == "" && c.sas == "":
		errs = append(errs, errors.New("has neither AccountKey nor SharedAccessSignature (for an identity-based connection, leave it empty and set __tableServiceUri)"))
	case c.key != "" && c.account == "":
		errs = append(errs, errors.New("has an AccountKey without its AccountName"))
	}
	if c.account != "" && !accountName(c.account) && c.account != DevelopmentAccount {
		errs = append(errs, fmt.Errorf("AccountName=%s is not a storage account name", bounded.Quote(c.account)))
	}
	if ep := kv["tableendpoint"]; ep != "" {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("TableEndpoint=%s is not an http(s) URL without a query", shownURL(ep)))
		} else if u.Scheme == "http" && !loopback(u.Hostname()) && c.key != "" {
			errs = append(errs, fmt.Errorf("TableEndpoint=%s: an account key is sent over https only, except to this machine (Azurite)", shownURL(ep)))
		}
		c.endpoint = strings.TrimRight(ep, "/")
	} else if c.account != "" {
		scheme := strings.ToLower(kv["defaultendpointsprotocol"])
		if scheme == "" {
			scheme = "https"
		}
		if scheme != "https" && scheme != "http" {
			errs = append(errs, fmt.Errorf("DefaultEndpointsProtocol=%s is neither https nor http", bounded.Quote(scheme)))
		}
		suffix := kv["endpointsuffix"]
		if suffix == "" {
			suffix = "core.windows.net"
		}
		c.endpoint = scheme + "://" + c.account + ".table." + suffix
	} else {
		errs = append(errs, errors.New("has neither AccountName nor TableEndpoint"))
	}
	return c, errors.Join(errs...)
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// shownURL is raw for a message: its scheme, host and path only, since a
// query or user information may hold a secret.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a value that is not a URL)"
	}
	shown := u.Scheme + "://" + u.Host + u.Path
	if bounded.HasSecret(shown) {
		return "(a token-shaped value, not shown)"
	}
	return bounded.String(shown)
}
