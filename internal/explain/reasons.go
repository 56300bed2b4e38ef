package explain

import (
	"errors"

	"github.com/entrafunc/entrafunc/auth"
)

// The reason words that Explain's cases tell apart: package auth's, which
// [auth.Reason] returns (the tests hold them to auth's list).
const (
	wordExpired      = "expired"
	wordNotYetValid  = "not_yet_valid"
	wordMissingClaim = "missing_claim"
	wordAudience     = "audience"
	wordIssuer       = "issuer"
	wordSignature    = "signature"

	wordInsufficientScope = "insufficient_scope"
)

// section is a table of docs/troubleshooting.md: the kind of answer a
// refusal gets.
type section string

// The guide's tables, in its order.
const (
	sectionNoCode      section = "no_code"     // 401 without an error code
	sectionToken       section = "token"       // 401 invalid_token, for a bearer token
	sectionEasyAuth    section = "easyauth"    // 401 invalid_token, for an Easy Auth principal
	sectionScope       section = "scope"       // 403 insufficient_scope
	sectionRule        section = "rule"        // 403 forbidden, naming a rule
	sectionUnavailable section = "unavailable" // 503
	sectionRequest     section = "request"     // 400 invalid_request
)

// reasonDoc explains one reason word of package auth in one table of the
// guide. A word may have a row in more than one table (expired means one
// thing for a token, another for an Easy Auth principal), or two rows in
// one, told apart by what the log says.
type reasonDoc struct {
	word    string
	section section
	// key names a case of the word that explain tells apart (a Graph
	// token's audience, an app-only token's missing scope); "" is the
	// general row, which every word has.
	key string
	// log is what the log line's error says, in Markdown.
	log string
	// cause is the usual cause, and fix what to change: the exact
	// setting, connector field or app registration field. Markdown, as
	// the guide shows them; explain prints them as they are.
	cause, fix string
}

// reasonTable is the one table of refusals: docs/troubleshooting.md is
// generated from it (go test ./internal/explain -run
// TestTroubleshootingGuide -update) and Explain quotes its fixes. Its words
// are package auth's, which [auth.Reason] returns; the tests hold the two
// lists to each other.
var reasonTable = []reasonDoc{
	{word: "no_credentials", section: sectionNoCode,
		log:   "`auth: no credentials`",
		cause: "No `Authorization` header, or a scheme other than `Bearer` (in Easy Auth mode: no `X-MS-CLIENT-PRINCIPAL`). The challenge is `Bearer realm=\"api\"` with no error code (RFC 6750 §3).",
		fix:   "Send `Authorization: Bearer <token>`. A connector sends it when its Security page uses OAuth 2.0 with the Azure Active Directory identity provider; in Easy Auth mode, check that App Service Authentication is on and requires authentication."},

	{word: "audience", section: sectionToken,
		log:   "`token has invalid audience`",
		cause: "The token is for another resource. A v1 token carries the connector's **Resource URL** as `aud`, exactly as typed (`https://myapp.azurewebsites.net`, `api://<client id>`, a bare client id, with or without a trailing slash); a v2 token carries the API's client id. Also seen: `https://apihub.azure.com` (the Power Platform sign-in token, not the one the API receives) and Microsoft Graph (`00000003-0000-0000-c000-000000000000`, `https://graph.microsoft.com`). `handler explain` says which case it is.",
		fix:   "Add the token's exact `aud` to `AUTH_AUDIENCES`, or change the **Resource URL** on the connector's Security page to a value `AUTH_AUDIENCES` lists."},
	{word: "audience", section: sectionToken, key: caseResourceURL,
		log:   "`token has invalid audience`",
		cause: "A v1 token whose `aud` is the connector's **Resource URL** exactly as typed, when that is not in `AUTH_AUDIENCES`: the function app's URL (the tutorial's setup), a bare client id, or an App ID URI.",
		fix:   "Either add the token's `aud`, exactly as shown, to `AUTH_AUDIENCES` (a URL must also be an App ID URI of the API's app registration, under Expose an API; a GUID must be the API's Application (client) ID), or change the **Resource URL** on the connector's Security page to a value `AUTH_AUDIENCES` lists. Setting `requestedAccessTokenVersion` to 2 in the API registration's manifest makes every token v2, whose `aud` is always the API's client id."},
	{word: "audience", section: sectionToken, key: caseNearMiss,
		log:   "`token has invalid audience`",
		cause: "The `aud` differs from an accepted audience only in letter case or a trailing slash. Audiences are compared exactly.",
		fix:   "Make the **Resource URL** on the connector's Security page exactly the accepted value, or add the token's `aud` as it is to `AUTH_AUDIENCES`."},
	{word: "audience", section: sectionToken, key: caseOtherAPI,
		log:   "`token has invalid audience`",
		cause: "A v2 token, whose `aud` is always the client id of the API it was issued for: this one is for another app registration.",
		fix:   "Request the token for this API (scope `api://<API client id>/user_impersonation`, or the connector's **Resource URL** set to this API). If that app registration is this API's, add its client id to `AUTH_AUDIENCES`."},
	{word: "audience", section: sectionToken, key: caseAPIHub,
		log:   "`token has invalid audience`",
		cause: "`aud` is `https://apihub.azure.com`: the first-hop token, which Power Platform's connector service holds for the signed-in connection. With **Enable on-behalf-of login** the service exchanges it for a token for the connector's Resource URL before it calls the API; this token is the one before the exchange.",
		fix:   "If you decoded the connection's token, explain the one in the `Authorization` header the API receives instead. If this token reached the API, turn on **Enable on-behalf-of login** on the connector's Security page, or fix its **Resource URL**, so that the connector asks for a token for this API."},
	{word: "audience", section: sectionToken, key: caseGraph,
		log:   "`token has invalid audience`",
		cause: "`aud` is Microsoft Graph (`00000003-0000-0000-c000-000000000000` or `https://graph.microsoft.com`): the connector asked Entra for a token for Graph, not for this API. Only Graph can validate such a token.",
		fix:   "Set the **Resource URL** on the connector's Security page to the API's App ID URI or client id, a value `AUTH_AUDIENCES` lists, not to Graph."},
	{word: "audience", section: sectionToken, key: caseIDToken,
		log:   "`token has invalid audience`",
		cause: "An ID token, whose `aud` is the client app it was issued to: it tells that app who signed in and is not meant for any API.",
		fix:   "Send the access token instead: the connector's Azure Active Directory identity provider does; a script asks for a token with the scope `api://<API client id>/user_impersonation`."},
	{word: "audience", section: sectionToken, key: caseDev,
		log:   "`token has invalid audience`",
		cause: "A development token, or a dev-mode server, and the audiences differ. `./handler token` without `--dev` issues for the first of `AUTH_AUDIENCES` when that is set; `make dev` (`handler dev`) expects `api://entrafunc-dev` and ignores every `AUTH_*` setting, so changing `AUTH_AUDIENCES` does nothing there.",
		fix:   "Mint the token for the server you call: `./handler token --dev` for `make dev`, `./handler token` with the server's own settings for an `AUTH_MODE=dev` server. `./handler explain --dev <token>` judges a token as `make dev` does."},
	{word: "issuer", section: sectionToken,
		log:   "`issuer \"…\" is not accepted`",
		cause: "The token comes from another tenant (a guest's home tenant, a multi-tenant sign-in, a personal Microsoft account `9188040d-…`), or from a cloud other than `AUTH_AUTHORITY`'s.",
		fix:   "Sign in with an account of the API's tenant and set the connector's **Tenant ID** to it instead of `common`; for a sovereign cloud set `AUTH_AUTHORITY` (e.g. `https://login.microsoftonline.us`)."},
	{word: "issuer", section: sectionToken, key: caseOtherTenant,
		log:   "`issuer \"…\" is not accepted`",
		cause: "The token was issued by another tenant than `AUTH_TENANT_ID`: a guest's home tenant, or a multi-tenant sign-in through a connector whose **Tenant ID** is `common`.",
		fix:   "Set the **Tenant ID** on the connector's Security page to `AUTH_TENANT_ID`'s tenant, and sign in with an account of it (a guest signs in to that tenant). If the API is registered in the token's tenant, set `AUTH_TENANT_ID` to it instead."},
	{word: "issuer", section: sectionToken, key: caseConsumer,
		log:   "`issuer \"…\" is not accepted`",
		cause: "A personal Microsoft account signed in (tenant `9188040d-6c67-4c5b-b112-36a304b66dad`).",
		fix:   "Sign in with a work or school account of the API's tenant, and set the connector's **Tenant ID** to `AUTH_TENANT_ID`'s tenant."},
	{word: "issuer", section: sectionToken, key: caseSovereign,
		log:   "`issuer \"…\" is not accepted`",
		cause: "The `tid` is right but the issuer is not the public cloud's: a sovereign cloud, or a token not from Entra.",
		fix:   "For a sovereign cloud set `AUTH_AUTHORITY` to its login host (such as `https://login.microsoftonline.us`); `handler check --online` shows the issuers its metadata names."},
	{word: "issuer", section: sectionToken, key: caseDev,
		log:   "`issuer \"…\" is not accepted`",
		cause: "A development token at a server of another tenant, or another token at a dev-mode server. Development tokens name the dev tenant `00000000-0000-4000-8000-00000000d001` (or `AUTH_TENANT_ID`, for `./handler token` without `--dev`), which no jwt-mode or Easy Auth server accepts; `make dev` accepts only the dev tenant's, whatever `AUTH_TENANT_ID` says, and no Entra token.",
		fix:   "Send development tokens to a dev-mode server only: `./handler token --dev` mints one for `make dev`, and `./handler explain --dev <token>` judges it as `make dev` does. A jwt-mode server needs an Entra access token for its tenant."},
	{word: "tenant", section: sectionToken,
		log:   "`tenant \"…\" is not \"…\"`",
		cause: "`AUTH_TENANT_ID` is not the tenant the token was issued in.",
		fix:   "Set `AUTH_TENANT_ID` to the Directory (tenant) ID of the API's app registration, and the connector's **Tenant ID** to the same."},
	{word: "expired", section: sectionToken,
		log:   "`token is expired`",
		cause: "The token is past its `exp` by more than the 5-minute clock skew allowed (Entra tokens live 60–90 minutes), or this machine's clock is off.",
		fix:   "Get a new token: Power Platform refreshes its own, so test the connection again; check this machine's clock."},
	{word: "expired", section: sectionToken, key: caseDev,
		log:   "`token is expired`",
		cause: "A development token past its `exp` by more than the 5-minute skew allowed: `./handler token` makes them live an hour, and nothing refreshes them.",
		fix:   "Mint a new one: `./handler token --dev` (`--lifetime 8h` for a longer one)."},
	{word: "not_yet_valid", section: sectionToken,
		log:   "`token is not valid yet`",
		cause: "The token's `nbf` is more than 5 minutes (the clock skew allowed) after this machine's time: one of the two clocks is wrong.",
		fix:   "Fix the clock (NTP) of this machine, or of the machine that minted the token."},
	{word: "unknown_key", section: sectionToken,
		log:   "`key not found: kid \"…\"`",
		cause: "The token was signed by a key the tenant does not publish: a development token sent to a jwt-mode server, a token of an app with its own signing keys (claims mapping), a token from another issuer, or a forgery. A new Entra key is picked up on first sight, but at most one reload every 5 minutes (the guide's section on unknown keys).",
		fix:   "Send an access token Entra issued for this API in `AUTH_TENANT_ID`'s tenant. After an Entra key rollover, wait 5 minutes or restart the app."},
	{word: "unknown_key", section: sectionToken, key: caseDev,
		log:   "`key not found: kid \"…\"`",
		cause: "A development token signed by another development key than the server's (another machine's, or another `AUTH_DEV_KEY_FILE`), a development token sent to a jwt-mode server, or an Entra token sent to a dev-mode server, which trusts its own key only.",
		fix:   "Mint the token where the server runs, with the key it uses: `./handler token --dev` shares `make dev`'s default key file. A jwt-mode server needs an Entra access token."},
	{word: "signature", section: sectionToken,
		log:   "`verification error`",
		cause: "The token was altered, or signed by someone else under a key id the tenant publishes. Microsoft Graph tokens (a `nonce` in the header) fail here too: only Graph can validate them.",
		fix:   "Send an unaltered access token issued for this API; for a forgery there is nothing to fix."},
	{word: "signature", section: sectionToken, key: caseGraph,
		log:   "`verification error`",
		cause: "A Microsoft Graph token: its header carries a `nonce`, and it is signed in a way only Graph can check.",
		fix:   "Set the **Resource URL** on the connector's Security page to the API's App ID URI or client id, a value `AUTH_AUDIENCES` lists, not to Graph."},
	{word: "signature", section: sectionToken, key: caseDev,
		log:   "`verification error`",
		cause: "A development token altered after it was minted, or cut short by copy and paste.",
		fix:   "Mint a fresh one with `./handler token --dev` and send it whole."},
	{word: "algorithm", section: sectionToken,
		log:   "`algorithm \"…\" is not RS256`",
		cause: "`alg: none`, an HMAC algorithm, or anything but RS256 written plainly (an escaped `\"RS\\u0032\\u0035\\u0036\"` counts as another). Judged before any key is looked up.",
		fix:   "Send an Entra access token: Entra signs them with RS256 only."},
	{word: "header", section: sectionToken,
		log:   "`no kid: the token does not name its signing key` / `header member crit: Entra never sends it, …` (also `b64`, `zip`) / `header member \"kid\" given twice` / `typ \"…\" is not JWT`",
		cause: "A JOSE header Entra never writes: no `kid` (old tokens with only `x5t`, or a forgery hoping every key gets tried), `crit`, `b64` or `zip` (RFC 7515 and 7797: a recipient that does not implement them must refuse), a member given twice, or a `typ` other than `JWT`. Judged before any key is looked up.",
		fix:   "Send an Entra access token; for a forgery there is nothing to fix."},
	{word: "version", section: sectionToken,
		log:   "`token version \"…\" is neither 1.0 nor 2.0`",
		cause: "The `ver` claim is not Entra's `1.0` or `2.0`: not an Entra access token.",
		fix:   "Send an Entra access token. Its version follows the API registration's manifest (`requestedAccessTokenVersion`, formerly `accessTokenAcceptedVersion`)."},
	{word: "missing_claim", section: sectionToken,
		log:   "`no oid claim` / `exp claim is required` / `aud claim is required`",
		cause: "A claim every Entra access token has is missing: not an Entra access token, or a stripped-down one.",
		fix:   "Send an Entra access token issued for this API."},
	{word: "duplicate_claim", section: sectionToken,
		log:   "`duplicate claim \"TID\"`",
		cause: "A security claim appears twice, in any letter case: an attempt to make two parsers read two different tokens.",
		fix:   "Nothing: Entra never does this."},
	{word: "invalid", section: sectionToken,
		log:   "anything else golang-jwt reports",
		cause: "A token this API cannot use for a reason not listed here.",
		fix:   "Read the `error` field of the log line, or run `handler explain` on the token."},
	{word: "malformed", section: sectionToken,
		log:   "`token is malformed` / `claim \"exp\": not a JSON number` / `token too large`",
		cause: "Not a JWS: a five-part (encrypted) token, a refresh token, garbage or a truncated copy; a token over 16 KiB (16384 bytes, counted without `Bearer ` and the spaces around it), which no Entra token is; or `exp`, `nbf` or `iat` that is not a JSON number (such as `\"exp\":\"1750003600\"`, which RFC 7519 does not allow and Entra never sends).",
		fix:   "Send the whole access token, unencrypted: not a refresh token, and not cut short by copy and paste."},

	{word: "principal", section: sectionEasyAuth,
		log:   "`X-MS-CLIENT-PRINCIPAL is not base64` / `not the App Service principal JSON` / `auth_typ \"…\" is not aad` / `X-MS-CLIENT-PRINCIPAL-IDP \"…\" is not aad`",
		cause: "The principal is not an Entra ID one (another identity provider, a Static Web Apps principal), or someone wrote it by hand.",
		fix:   "Use the Microsoft (Entra ID) provider in App Service Authentication."},
	{word: "expired", section: sectionEasyAuth,
		log:   "`the principal expired at …`",
		cause: "The principal's `exp` passed more than 5 minutes ago. Easy Auth checks the token's lifetime itself, so behind a working Easy Auth this is a replayed or forged header, or a clock off by minutes. A principal without `exp` is not judged on it.",
		fix:   "Check the clock; investigate where the header came from."},
	{word: "missing_claim", section: sectionEasyAuth,
		log:   "`the principal has no oid or no tid`",
		cause: "An Entra principal without the object or tenant id: claims mapping or the token store is off.",
		fix:   "Turn the token store on in App Service Authentication (claims mapping needs it)."},
	{word: "duplicate_claim", section: sectionEasyAuth,
		log:   "`claim tid has two values`",
		cause: "Two claims disagree on a single-valued claim (`tid`, `oid`, `scp`, …).",
		fix:   "Nothing: the header is forged or broken."},
	{word: "missing_token", section: sectionEasyAuth,
		log:   "`AUTH_EASYAUTH_VERIFY_TOKEN is set but the request carries no access token`",
		cause: "Defence in depth is on, but neither `Authorization: Bearer` nor `X-MS-TOKEN-AAD-ACCESS-TOKEN` reached the handler.",
		fix:   "Turn the token store on, or set `AUTH_EASYAUTH_VERIFY_TOKEN=false`."},
	{word: "principal_mismatch", section: sectionEasyAuth,
		log:   "`the access token and X-MS-CLIENT-PRINCIPAL name different users`",
		cause: "The verified token's `tid`/`oid` differ from the principal's: a forged header.",
		fix:   "Investigate: behind a working Easy Auth this never happens."},

	{word: "insufficient_scope", section: sectionScope,
		log:   "detail `missing user_impersonation`",
		cause: "The connector's app registration has no delegated permission `user_impersonation` on the API, or it was never consented.",
		fix:   "In the connector's app registration: **API permissions** → Add a permission → My APIs → the API → Delegated → `user_impersonation`, then grant admin consent or sign in to the connection again. The scopes required are `AUTH_REQUIRED_SCOPES`."},
	{word: "insufficient_scope", section: sectionScope, key: caseAppOnly,
		log:   "detail `the token carries no delegated scope (an app-only or ID token?)`",
		cause: "An app-only token (`roles`, no `scp`, `idtyp` `app`) from a service-principal connection or the client credentials flow. This API acts for a signed-in user, and a delegated scope is how a token says so.",
		fix:   "Use a connection that signs in a user (OAuth 2.0, Azure Active Directory), not a service principal. Serving apps would take an app-role design, which is a code change: an app role on the API registration (App roles, allowed member type Applications), granted to the client app as an application permission with admin consent, and a route in `api.Routes()` whose `Roles` require it; as built, `AUTH_REQUIRED_SCOPES` (default `user_impersonation`) applies to every route, so no app-only token passes."},
	{word: "insufficient_scope", section: sectionScope, key: caseIDToken,
		log:   "detail `the token carries no delegated scope (an app-only or ID token?)`",
		cause: "An ID token: it tells the client app who signed in, grants nothing and has no `scp`.",
		fix:   "Send the access token instead: the connector's Azure Active Directory identity provider does; a script asks for a token with the scope `api://<API client id>/user_impersonation`."},
	{word: "insufficient_scope", section: sectionScope, key: caseDev,
		log:   "detail `missing user_impersonation`",
		cause: "A development token minted without the required scope (`--scope none`, or another `--scope`). `make dev` requires `user_impersonation` whatever `AUTH_REQUIRED_SCOPES` says.",
		fix:   "Mint it without `--scope`, which gives `user_impersonation`: `./handler token --dev`."},

	{word: "AUTH_ALLOWED_CLIENT_APPS", section: sectionRule,
		log:   "`client app \"…\" is not listed`",
		cause: "The calling app (`azp` in v2 tokens, `appid` in v1) is not in `AUTH_ALLOWED_CLIENT_APPS`.",
		fix:   "Add the connector app registration's Application (client) ID to `AUTH_ALLOWED_CLIENT_APPS`, or put that ID in the connector's **Client ID** field."},
	{word: "AUTH_ALLOWED_USERS", section: sectionRule,
		log:   "`the caller is not listed`",
		cause: "The caller's object id is not in `AUTH_ALLOWED_USERS`.",
		fix:   "Add the user's object id (`oid`) to `AUTH_ALLOWED_USERS`."},
	{word: "AUTH_ALLOWED_GROUPS", section: sectionRule,
		log:   "`the caller is not listed` / `the token has a groups overage claim …`",
		cause: "None of the caller's groups is in `AUTH_ALLOWED_GROUPS`. Groups are in the token only when the API registration emits group claims; over 200 groups the token carries an overage marker instead.",
		fix:   "Add one of the user's groups to `AUTH_ALLOWED_GROUPS`, make the API registration emit group claims (Token configuration → Add groups claim), and choose \"Groups assigned to the application\" to avoid the overage."},
	{word: "AUTH_ALLOWED_USERS/AUTH_ALLOWED_GROUPS", section: sectionRule,
		log:   "`the caller is not listed`",
		cause: "The caller is neither in `AUTH_ALLOWED_USERS` nor a member of a group in `AUTH_ALLOWED_GROUPS`.",
		fix:   "Add the user's object id to `AUTH_ALLOWED_USERS`, or one of their groups to `AUTH_ALLOWED_GROUPS` (see the groups row)."},
	{word: "route roles", section: sectionRule,
		log:   "`missing app role \"…\"`",
		cause: "The route requires an app role the caller does not hold (a per-route addition in the route table).",
		fix:   "Assign the app role to the user or a group in the API's enterprise application (Users and groups)."},
	{word: "AUTH_TENANT_ID", section: sectionRule,
		log:   "`tenant \"…\" is not \"…\"` (Easy Auth mode)",
		cause: "The principal's tenant is not `AUTH_TENANT_ID`: Easy Auth with a multi-tenant issuer let in a caller from another tenant.",
		fix:   "Use a tenant-specific issuer URL in Easy Auth, and the right `AUTH_TENANT_ID`."},
	{word: "AUTH_AUDIENCES", section: sectionRule,
		log:   "`audience \"…\" is not listed` (Easy Auth mode)",
		cause: "The principal's `aud` is not in `AUTH_AUDIENCES`.",
		fix:   "Add the audience the connector's tokens carry (see `audience`) to both Easy Auth's allowed token audiences and `AUTH_AUDIENCES`."},

	{word: "keys_unavailable", section: sectionUnavailable,
		log:   "`no key set has loaded yet (waited 5s); last load: …`",
		cause: "No signing key set has loaded yet, so no token can be judged either way. The answer is 503 with `Retry-After: 5`.",
		fix:   "At a cold start, none: the caller retries. Otherwise the `last load` error says why the keys did not load (a mistyped `AUTH_TENANT_ID` shows as `AADSTS90002`, an unreachable `AUTH_AUTHORITY` as a network error; the guide's 503 section lists the causes); `handler check --online` loads them once and shows the failure."},

	{word: "invalid_request", section: sectionRequest,
		log:   "`auth: invalid request: …`",
		cause: "The token was sent somewhere other than the `Authorization: Bearer` header (the query string, a form body), twice, or not as one token68 word after `Bearer` (a quoted token, a space or a comma inside it).",
		fix:   "Send the token once, in the `Authorization: Bearer` header: tokens in URLs end up in logs, so this API does not accept them."},
}

// The cases explain tells apart, as reasonDoc keys.
const (
	caseResourceURL = "resource_url"
	caseNearMiss    = "near_miss"
	caseOtherAPI    = "other_api"
	caseAPIHub      = "apihub"
	caseGraph       = "graph"
	caseIDToken     = "id_token"
	caseOtherTenant = "other_tenant"
	caseConsumer    = "consumer"
	caseSovereign   = "sovereign"
	caseAppOnly     = "app_only"
	// caseDev is a development token, or a dev-mode server: make dev
	// ignores every AUTH_* setting, so the advice is to mint another token.
	caseDev = "dev"
)

// hasCase reports whether word has a row of its own for key in sec.
func hasCase(word string, sec section, key string) bool {
	for _, d := range reasonTable {
		if d.word == word && d.section == sec && d.key == key {
			return true
		}
	}
	return false
}

// docCase returns the row of word in sec for the case key, or the general
// row when the case has none of its own.
func docCase(word string, sec section, key string) (reasonDoc, bool) {
	var general reasonDoc
	found := false
	for _, d := range reasonTable {
		if d.word != word || d.section != sec {
			continue
		}
		if d.key == key {
			return d, true
		}
		if d.key == "" {
			general, found = d, true
		}
	}
	return general, found
}

// sectionOf is the table of the guide that explains err, by the kind of
// answer the server gives it.
func sectionOf(err error) section {
	switch {
	case errors.Is(err, auth.ErrInvalidRequest):
		return sectionRequest
	case errors.Is(err, auth.ErrUnavailable):
		return sectionUnavailable
	case errors.Is(err, auth.ErrInsufficientScope):
		return sectionScope
	case errors.Is(err, auth.ErrForbidden):
		return sectionRule
	case errors.Is(err, auth.ErrNoCredentials):
		return sectionNoCode
	}
	return sectionToken
}
