package auth

// The words a refusal's log line carries in its "reason" field: the one
// list, and part of the package's contract. Every [TokenError] this
// package makes names one of the reason constants, every [PolicyError] one
// of the rule constants, and [Reason] returns one of them for every error
// of this package. internal/explain's reason table explains each, for
// handler explain and docs/troubleshooting.md: a word added here without
// a row there fails its tests.
const (
	// TokenError reasons: the token (or Easy Auth principal) is refused.
	reasonExpired           = "expired"
	reasonNotYetValid       = "not_yet_valid"
	reasonSignature         = "signature"
	reasonUnknownKey        = "unknown_key"
	reasonAlgorithm         = "algorithm"
	reasonHeader            = "header"
	reasonMalformed         = "malformed"
	reasonAudience          = "audience"
	reasonIssuer            = "issuer"
	reasonTenant            = "tenant"
	reasonVersion           = "version"
	reasonDuplicateClaim    = "duplicate_claim"
	reasonMissingClaim      = "missing_claim"
	reasonInvalid           = "invalid"
	reasonPrincipal         = "principal"
	reasonMissingToken      = "missing_token"
	reasonPrincipalMismatch = "principal_mismatch"

	// The other kinds of failure, which [Reason] names.
	reasonNoCredentials     = "no_credentials"
	reasonInvalidRequest    = "invalid_request"
	reasonKeysUnavailable   = "keys_unavailable"
	reasonInsufficientScope = "insufficient_scope"

	// PolicyError rules: the setting that refused a valid caller, which
	// [Reason] returns for an allow-list's refusal (a missing scope is
	// insufficient_scope instead).
	ruleRequiredScopes    = "AUTH_REQUIRED_SCOPES"
	ruleAllowedClientApps = "AUTH_ALLOWED_CLIENT_APPS"
	ruleAllowedUsers      = "AUTH_ALLOWED_USERS"
	ruleAllowedGroups     = "AUTH_ALLOWED_GROUPS"
	ruleAllowedPrincipals = "AUTH_ALLOWED_USERS/AUTH_ALLOWED_GROUPS"
	ruleRouteRoles        = "route roles"
	ruleTenant            = "AUTH_TENANT_ID"
	ruleAudiences         = "AUTH_AUDIENCES"
)
