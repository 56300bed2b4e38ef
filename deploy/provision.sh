#!/usr/bin/env bash
# Creates, or finds and reuses, everything this API needs in Azure: the
# function app that runs the Go custom handler, the Tasks function's table
# and the app's access to it, the API's and the connector's app
# registrations in Entra ID (the API's with the app role
# Tasks.ReadWrite.All), Easy Auth in front of the app, the handler's
# settings, and the connector's files. Every value that has to agree
# across those places (audiences, the connector's client id, the tenant,
# the redirect URL, the storage account and the table) is computed once
# here and handed to each, so they cannot drift apart;
# tools/provision_test.go checks the dry run's plan for exactly that.
#
# The choices, and why:
#
# * Hosting: Flex Consumption by default. It runs custom handlers (runtime
#   custom), and Linux Consumption is retired on 2028-09-30, so it is not
#   offered. Premium (EP1) and Dedicated (B1) plans are Linux plans too.
#   `--flexconsumption-location` needs az 2.60 or later.
# * Tokens: the API registration asks for v2 access tokens
#   (requestedAccessTokenVersion 2). A v2 token's aud is always the API's
#   client id and its iss is https://login.microsoftonline.com/<tenant>/v2.0,
#   whatever Resource URL the connector sends; that issuer is exactly Easy
#   Auth's tenant-specific openIdIssuer below, so no issuer mismatch can
#   401 the calls. The handler accepts v1 and v2 alike, and the audiences
#   still list api://<id> (what a v1 token would carry for the connector's
#   Resource URL), so turning the manifest back to v1 breaks nothing.
# * Easy Auth: a PUT of the whole authsettingsV2 document through az rest.
#   Older CLIs have no `az webapp auth microsoft` (it was an extension),
#   and none sets allowedApplications; a PUT of the full document is
#   idempotent and leaves nothing from an earlier configuration behind.
# * The token store is on: docs/easyauth.md and docs/troubleshooting.md
#   say claims mapping needs it, and without oid and tid in the principal
#   the handler refuses every call (missing_claim).
# * AUTH_MODE=easyauth, not auto: this deployment puts Easy Auth in front,
#   and if it is ever switched off the handler should refuse to start
#   (handler check says why) rather than quietly become a different kind
#   of API. AUTH_EASYAUTH_VERIFY_TOKEN=true: the handler also validates the
#   bearer token (forwarded by the host) and requires it to name the same
#   tid and oid as the principal, so a platform regression that lets a
#   forged principal through gains nothing (see
#   https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities).
# * The connector signs in with a client secret, created last, only if the
#   registration has none of ours yet, and printed once to stdout: never
#   to a file, never on a command line. With --federated no secret is
#   made: on the connector's Security page choose "Use managed identity";
#   Power Platform then shows an issuer and a subject, and a federated
#   credential with those on the connector registration replaces the
#   secret (the script prints the command), so nothing expires or leaks.
# * Redirect URIs: only the per-connector one, because the generated
#   apiProperties.json uses redirectMode GlobalPerConnector; the older
#   global https://global.consent.azure-apim.net/redirect would only let
#   other connectors use this registration. URIs already registered stay.
# * The connector is pre-authorized on the API (preAuthorizedApplications),
#   so no user is asked to consent; tenant-wide consent is granted as well
#   (az ad app permission grant --consent-type AllPrincipals, an
#   oauth2PermissionGrant through Graph), and its failure (the caller may
#   not grant) only prints a note. Not az ad app permission admin-consent:
#   that calls an internal portal API, which refuses service principals
#   (a CI login) and is not documented.
# * Both registrations are single-tenant, so the connector signs in at the
#   tenant (--tenant), not at /common, which refuses single-tenant apps
#   created after 2018-10-15.
# * A lookup that fails stops the script: it never takes "az could not
#   say" (an expired login, a 403, no network) for "there is none", which
#   would create a second registration, drop a redirect URI or recreate a
#   resource. Only az's own "not found" (exit status 3 from a show
#   command) counts as absent; see az_exists.
# * Entra ID is eventually consistent: a registration created a moment ago
#   may not be found yet. So the ids of a new registration come from its
#   create, nothing is looked up on it in the same run (it is known to be
#   empty), and its service principal's create is tried a few times.
# * The Tasks function's storage holds no secret. The handler reaches
#   Table storage as the app's system-assigned managed identity, which
#   gets Storage Table Data Contributor on the account, through the
#   identity-based settings of a connection of its own
#   (TASKS_CONNECTION=TasksStorage, TasksStorage__tableServiceUri, with
#   __credential managedidentity). AzureWebJobsStorage is not reused: az
#   functionapp create fills it with a connection string that holds the
#   account key, and a connection string wins over identity-based settings
#   of the same name.
# * The table is created through Azure Resource Manager, which needs only
#   the rights that made the account. A data-plane create (az storage table
#   create --auth-mode login) would need a data role for whoever runs this,
#   which an Owner does not have (Azure/azure-sdk-for-net#24717).
# * TASKS_STORE=tables is set although it is the default in Azure, for the
#   reason AUTH_MODE is: if the handler ever failed to see that it runs in
#   Azure, it would refuse to start rather than keep tasks in a file of
#   one instance.
# * The app role Tasks.ReadWrite.All allows users (assigned the role) and
#   applications (granted it as an application permission: a
#   service-principal connection). Graph replaces appRoles as a whole and
#   refuses to change or drop an enabled role, so a role found by its value
#   keeps its id and is left exactly as it is, and a new one is added to the
#   roles already there, which go back unchanged. Who holds it is an
#   administrator's decision: docs/deploy.md shows how to assign it.
#
# The script owns what it creates: a rerun sets the API registration's
# scopes and pre-authorized apps to its own, and replaces Easy Auth's
# configuration whole. What it finds right it leaves alone: the
# connector's permission is added only when missing (az ad app permission
# add appends a duplicate otherwise, Azure/azure-cli#24512), the redirect
# URI only when absent, the secret only when none of ours exists.
#
# --dry-run runs nothing, not even a lookup, so it needs neither az nor a
# login: it prints the commands a first run would run, one per line, quoted
# for pasting, with named placeholders (<api-client-id>, <tenant-id>, ...)
# for ids that only exist once an earlier command has run. Lookups print
# as found-nothing. The connector generator is no az command, so it is
# printed as a comment line: "# AUTH_...=... GOOS= GOARCH= go run
# ./cmd/handler connector ...", a command too once the "# " is dropped.
# Notes go to stderr.
set -euo pipefail
# Without inherit_errexit bash runs $(...) with set -e off, so a failing
# command inside one goes unnoticed. bash 3.2 (macOS's /bin/bash) lacks
# the option; every lookup below checks its own status as well, so there
# it is only the second line of defence that is missing.
shopt -s inherit_errexit 2>/dev/null || true

usage() {
	cat <<'EOF'
usage: deploy/provision.sh --name NAME [flags]

Create, or find and reuse, the function app NAME with Easy Auth, the Tasks
table and the app's access to it, the API's and the connector's app
registrations, the handler's settings, and the connector's files in
dist/connector. Run it again to converge.

  --name NAME             the function app's name (required): 2-60 lowercase
                          letters, digits and hyphens; the base of the names below
  --location LOC          Azure region (default eastus)
  --resource-group RG     resource group (default rg-NAME)
  --storage NAME          storage account (default st + NAME's letters and
                          digits, at most 24)
  --plan flex|premium|dedicated
                          hosting plan (default flex: Flex Consumption;
                          premium: EP1; dedicated: B1; all Linux)
  --connector-name NAME   the connector's name, which ends its redirect URL
                          (default NAME)
  --federated             make no client secret: the connector will use a
                          federated credential (Security page: "Use managed
                          identity"); prints how to add it
  --dry-run               print the az commands instead of running them;
                          needs no az and no login
  -h, --help              show this help

stdout carries the connector's client secret when one is created (shown
once), or, with --dry-run, the plan; everything else goes to stderr.
Needs az 2.60 or later (Flex Consumption) and Go: the connector's files
are made with go run ./cmd/handler, for this machine whatever the build.
PROVISION_RETRY_SLEEP (seconds, default 10) is the wait between tries of
a new registration's service principal.
EOF
}

die() {
	printf 'provision.sh: %s\n' "$1" >&2
	exit 1
}

usage_error() {
	printf 'provision.sh: %s\n(run deploy/provision.sh --help for the usage)\n' "$1" >&2
	exit 2
}

note() {
	printf '%s\n' "$*" >&2
}

NAME=""
LOCATION="eastus"
RESOURCE_GROUP=""
STORAGE=""
PLAN="flex"
CONNECTOR_NAME=""
FEDERATED=0
DRY_RUN=0

while [ "$#" -gt 0 ]; do
	flag=$1
	value=""
	case $flag in
	-h | --help)
		usage
		exit 0
		;;
	--dry-run)
		DRY_RUN=1
		shift
		continue
		;;
	--federated)
		FEDERATED=1
		shift
		continue
		;;
	--name=* | --location=* | --resource-group=* | --storage=* | --plan=* | --connector-name=*)
		value=${flag#*=}
		flag=${flag%%=*}
		shift
		;;
	--name | --location | --resource-group | --storage | --plan | --connector-name)
		[ "$#" -ge 2 ] || usage_error "$flag needs a value"
		value=$2
		shift 2
		;;
	*)
		usage_error "unknown flag: $flag"
		;;
	esac
	case $flag in
	--name) NAME=$value ;;
	--location) LOCATION=$value ;;
	--resource-group) RESOURCE_GROUP=$value ;;
	--storage) STORAGE=$value ;;
	--plan) PLAN=$value ;;
	--connector-name) CONNECTOR_NAME=$value ;;
	esac
done

[ -n "$NAME" ] || usage_error "--name is required: the function app's name"
# Host names are case-insensitive, and Azure shows them in lower case:
# lower it here so that --host and the audiences match what Azure serves.
NAME=$(printf '%s' "$NAME" | tr '[:upper:]' '[:lower:]')
[[ $NAME =~ ^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$ ]] ||
	usage_error "--name $NAME: a function app name is 2-60 letters, digits and hyphens, not starting or ending with a hyphen"
[[ $LOCATION =~ ^[a-z0-9]+$ ]] || usage_error "--location $LOCATION: a region name such as eastus or westeurope"
RESOURCE_GROUP=${RESOURCE_GROUP:-rg-$NAME}
[[ $RESOURCE_GROUP =~ ^[A-Za-z0-9._()-]{1,90}$ ]] || usage_error "--resource-group $RESOURCE_GROUP: at most 90 letters, digits and ._()-"
if [ -z "$STORAGE" ]; then
	# Storage account names allow lowercase letters and digits only.
	STORAGE="st${NAME//-/}"
	STORAGE=${STORAGE:0:24}
fi
[[ $STORAGE =~ ^[a-z0-9]{3,24}$ ]] || usage_error "--storage $STORAGE: 3-24 lowercase letters and digits"
case $PLAN in
flex | premium | dedicated) ;;
*) usage_error "--plan $PLAN: one of flex, premium, dedicated" ;;
esac
if [ -z "$CONNECTOR_NAME" ]; then
	# The handler's connector name starts with a letter; an app name may not.
	CONNECTOR_NAME=$NAME
	[[ $CONNECTOR_NAME =~ ^[a-z] ]] || CONNECTOR_NAME="c$CONNECTOR_NAME"
fi
[[ $CONNECTOR_NAME =~ ^[A-Za-z][A-Za-z0-9-]{0,62}$ ]] ||
	usage_error "--connector-name $CONNECTOR_NAME: letters, digits and hyphens, starting with a letter, at most 63"

API_DISPLAY_NAME="$NAME-api"
CONNECTOR_DISPLAY_NAME="$NAME-connector"
PLAN_NAME="plan-$NAME"
SCOPE="user_impersonation"
SECRET_NAME="power-platform"
# The handler's connector.RedirectURL: the base, then the connector's name
# in lower case, letters and digits only.
REDIRECT_SUFFIX=$(printf '%s' "$CONNECTOR_NAME" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9')
REDIRECT_URI="https://global.consent.azure-apim.net/redirect/$REDIRECT_SUFFIX"
RETRY_SLEEP=${PROVISION_RETRY_SLEEP:-10}
[[ $RETRY_SLEEP =~ ^[0-9]+$ ]] || usage_error "PROVISION_RETRY_SLEEP=$RETRY_SLEEP: a number of seconds"
SP_TRIES=5
# authsettingsV2 as https://learn.microsoft.com/azure/templates/microsoft.web/2024-04-01/sites/config-authsettingsv2 describes it.
AUTH_API_VERSION="2024-04-01"
GRAPH="https://graph.microsoft.com/v1.0"
# The Tasks function's table and app role, the role that lets the app's
# identity use the table, and the name of the handler's connection to it.
TASKS_TABLE="tasks"
TASKS_ROLE="Tasks.ReadWrite.All"
TABLE_DATA_ROLE="Storage Table Data Contributor"
TASKS_CONNECTION_NAME="TasksStorage"
# Microsoft.Storage's API version for the table resource (Table - Create).
STORAGE_API_VERSION="2023-05-01"

# The repository's root, wherever this is run from: go run ./cmd/handler
# and dist/connector are relative to it.
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$SCRIPT_DIR/.."

# The plan goes to fd 3: stdout in a dry run, stderr (as progress) in a
# real one. It is a separate descriptor so that lines printed inside a
# command substitution are shown, not captured.
if [ "$DRY_RUN" = 1 ]; then
	exec 3>&1
else
	exec 3>&2
fi

# quote sets QUOTED to one word as bash reads it back unchanged: bare
# when it holds only characters no shell treats specially, else in single
# quotes, or in double quotes when it holds a single quote (JMESPath
# literals) and nothing double quotes would expand. It and quote_words set
# a variable instead of printing, because $(...) forks a subshell: a plan
# quotes hundreds of words, and the forks were most of a dry run's time.
quote() {
	local sq="'" dq='"'
	if [[ $1 =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
		QUOTED=$1
	elif [[ $1 != *"$sq"* ]]; then
		QUOTED="'$1'"
	elif [[ $1 != *[$dq\\\$\`!]* ]]; then
		QUOTED="\"$1\""
	else
		QUOTED="'${1//$sq/$sq\\$sq$sq}'"
	fi
}

# quote_words sets QUOTED to its arguments as one line of quoted words.
quote_words() {
	local line word
	quote "$1"
	line=$QUOTED
	shift
	for word in "$@"; do
		quote "$word"
		line+=" $QUOTED"
	done
	QUOTED=$line
}

# show prints one command of the plan, each word quoted.
show() {
	quote_words "$@"
	if [ "$DRY_RUN" = 1 ]; then
		printf '%s\n' "$QUOTED" >&3
	else
		printf '+ %s\n' "$QUOTED" >&3
	fi
}

# show_comment prints a command that is not an az command: as a comment
# line in the plan, so that every other line of it is one.
show_comment() {
	quote_words "$@"
	if [ "$DRY_RUN" = 1 ]; then
		printf '# %s\n' "$QUOTED" >&3
	else
		printf '+ %s\n' "$QUOTED" >&3
	fi
}

# az_change runs a command that changes something.
az_change() {
	show az "$@"
	[ "$DRY_RUN" = 1 ] || az "$@"
}

# az_value prints what a command prints: in a dry run, the placeholder
# given first, which stands for the id the command would return.
az_value() {
	local placeholder=$1
	shift
	show az "$@"
	if [ "$DRY_RUN" = 1 ]; then
		printf '%s\n' "$placeholder"
	else
		az "$@"
	fi
}

# az_lookup prints what a read-only command finds; a dry run finds nothing.
# Its status is az's: callers stop on a failure (|| die), since a lookup
# that failed found nothing only in the sense that it could not look.
az_lookup() {
	show az "$@"
	[ "$DRY_RUN" = 1 ] || az "$@"
}

# az_exists says whether a show command finds its resource: yes (0), or
# no (1) only when az says it is not there. az exits 3 for that: a show
# command's 404 goes through show_exception_handler (azure-cli's
# core/commands/arm.py), and any ResourceNotFoundError gets 3 (core/util.py),
# for ARM and Graph alike. Anything else (an expired login, a 403, a
# throttled or failed request) leaves the question open, and creating the
# resource then could duplicate or clobber it, so the script stops. In a
# dry run nothing exists yet.
az_exists() {
	local err rc
	show az "$@"
	[ "$DRY_RUN" = 0 ] || return 1
	if err=$(az "$@" 2>&1 >/dev/null); then
		return 0
	else
		rc=$?
	fi
	[ "$rc" != 3 ] || return 1
	die "az $* failed (exit status $rc), so whether it exists is unknown; nothing is created: ${err:-az printed nothing}"
}

# is_guid says whether $1 is an id as Entra ID and az print them.
is_guid() {
	[[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
}

# want_guid stops unless $2 is an id: what az printed for $1 (in a real
# run; a dry run has placeholders).
want_guid() {
	[ "$DRY_RUN" = 1 ] || is_guid "$2" || die "$1 gave no id (got \"$2\")"
}

# new_guid makes an id for a new scope or app role of the API, which Graph
# wants from the client; a dry run prints the placeholder $1 instead.
new_guid() {
	if [ "$DRY_RUN" = 1 ]; then
		printf '%s\n' "$1"
	elif [ -r /proc/sys/kernel/random/uuid ]; then
		cat /proc/sys/kernel/random/uuid
	elif command -v uuidgen >/dev/null 2>&1; then
		uuidgen | tr '[:upper:]' '[:lower:]'
	else
		die "cannot make a GUID for the API's registration: install uuidgen"
	fi
}

# find_app prints the client id of the app registration named exactly $1,
# or nothing. --display-name matches a prefix, hence the exact query; two
# registrations with the name would leave it unclear which one to use.
# It runs in $(...), so its die ends only that subshell: callers add
# || exit.
find_app() {
	local ids id found=()
	ids=$(az_lookup ad app list --display-name "$1" --query "[?displayName=='$1'].appId" -o tsv) ||
		die "could not list the app registrations named $1 (az ad app list failed); nothing is created while that is unknown"
	while IFS= read -r id; do
		if [ -n "$id" ]; then
			want_guid "az ad app list --display-name $1" "$id"
			found+=("$id")
		fi
	done <<<"$ids"
	if [ "${#found[@]}" -gt 1 ]; then
		die "several app registrations are named $1 (${found[*]}): delete all but one, then run this again"
	fi
	printf '%s' "${found[0]:-}"
}

# ensure_sp makes the service principal of the registration $1 unless it
# has one; $2 is 1 for a registration this run created, which has none.
# A registration made a moment ago may not be visible to the create yet
# ("does not reference a valid application object"), so it is tried
# SP_TRIES times, RETRY_SLEEP seconds apart. A dry run runs nothing, so it
# neither fails nor waits.
ensure_sp() {
	local try
	if [ "$2" = 0 ] && az_exists ad sp show --id "$1" -o none; then
		return 0
	fi
	for ((try = 1; ; try++)); do
		if az_change ad sp create --id "$1" -o none; then
			return 0
		fi
		[ "$try" -lt "$SP_TRIES" ] || die "could not create the service principal of $1 ($try tries): run this again in a minute"
		note "the service principal of $1 was not created (try $try of $SP_TRIES); a new registration can take a minute to be seen: trying again in ${RETRY_SLEEP}s"
		sleep "$RETRY_SLEEP"
	done
}

# json_list prints its arguments as a JSON array of strings. Every value
# passed is a GUID, a URI built from one, or a name checked above: none
# holds a quote or a backslash.
json_list() {
	local out="" v
	for v in "$@"; do
		out+="${out:+,}\"$v\""
	done
	printf '[%s]' "$out"
}

# json_append prints the JSON array $1 with the JSON value $2 added at its
# end. $1 is what az printed with -o json: an array, perhaps over several
# lines, whose strings hold no raw line break (JSON escapes them). It runs
# in $(...), so callers add || exit.
json_append() {
	local a=${1//$'\n'/}
	a=${a#"${a%%[![:space:]]*}"}
	a=${a%"${a##*[![:space:]]}"}
	[[ $a == "["*"]" ]] || die "az printed no JSON array (got \"$1\")"
	a=${a%]}
	a=${a%"${a##*[![:space:]]}"}
	if [ "$a" = "[" ]; then
		printf '[%s]' "$2"
	else
		printf '%s,%s]' "$a" "$2"
	fi
}

if [ "$DRY_RUN" = 0 ]; then
	command -v az >/dev/null 2>&1 || die "az (the Azure CLI) is not on PATH"
	# The connector's files are made by go run, for this machine: empty
	# GOOS and GOARCH undo an exported cross-compilation target, but not
	# one set with go env -w, which this catches.
	command -v go >/dev/null 2>&1 || die "go is not on PATH: the connector's files are made with go run ./cmd/handler"
	[ "$(GOOS='' GOARCH='' go env GOOS GOARCH)" = "$(go env GOHOSTOS GOHOSTARCH)" ] ||
		die "go env -w sets GOOS or GOARCH, so go run ./cmd/handler would not build for this machine: go env -u GOOS GOARCH"
	# az account show reads only the cache, which still holds a login whose
	# refresh token has expired; getting a token proves the login works,
	# for ARM and for Microsoft Graph (the app registrations).
	err=$(az account get-access-token --query expiresOn -o tsv 2>&1 >/dev/null) ||
		die "az cannot get a token for Azure Resource Manager: run az login first. az said: $err"
	err=$(az account get-access-token --resource-type ms-graph --query expiresOn -o tsv 2>&1 >/dev/null) ||
		die "az cannot get a token for Microsoft Graph: run az login first. az said: $err"
fi

note "provisioning $NAME: resource group $RESOURCE_GROUP, storage $STORAGE, plan $PLAN, location $LOCATION, connector $CONNECTOR_NAME"
[ "$DRY_RUN" = 0 ] || note "dry run: nothing is changed; <...> stand for ids that earlier commands would return"

TENANT_ID=$(az_value '<tenant-id>' account show --query tenantId -o tsv) ||
	die "az account show failed: check az login"
want_guid "az account show (the tenant; check az login)" "$TENANT_ID"

# --- the function app -------------------------------------------------------

az_exists group show --name "$RESOURCE_GROUP" -o none ||
	az_change group create --name "$RESOURCE_GROUP" --location "$LOCATION" -o none

az_exists storage account show --name "$STORAGE" --resource-group "$RESOURCE_GROUP" -o none ||
	az_change storage account create --name "$STORAGE" --resource-group "$RESOURCE_GROUP" \
		--location "$LOCATION" --sku Standard_LRS --kind StorageV2 \
		--https-only true --min-tls-version TLS1_2 --allow-blob-public-access false -o none

case $PLAN in
flex)
	# Flex Consumption has no plan to create first: functionapp create
	# makes it. It is Linux only. By default az gives the app its
	# deployment container through DEPLOYMENT_STORAGE_CONNECTION_STRING, an
	# app setting holding the account key; with the app's system-assigned
	# identity instead, az grants that identity Storage Blob Data
	# Contributor on the account and stores no key for deployments (this
	# needs the right to assign roles there, Owner or User Access
	# Administrator). The flags are those of az functionapp create for
	# Flex in current az (2.60 and later); the az 2.45 this was written
	# with has no Flex support at all, so they could not be run here.
	# AzureWebJobsStorage, the host's own storage setting, is still a
	# connection string.
	hosting=(--flexconsumption-location "$LOCATION" --assign-identity '[system]'
		--deployment-storage-auth-type SystemAssignedIdentity)
	;;
premium)
	az_exists functionapp plan show --name "$PLAN_NAME" --resource-group "$RESOURCE_GROUP" -o none ||
		az_change functionapp plan create --name "$PLAN_NAME" --resource-group "$RESOURCE_GROUP" \
			--location "$LOCATION" --sku EP1 --is-linux true -o none
	hosting=(--plan "$PLAN_NAME")
	;;
dedicated)
	az_exists appservice plan show --name "$PLAN_NAME" --resource-group "$RESOURCE_GROUP" -o none ||
		az_change appservice plan create --name "$PLAN_NAME" --resource-group "$RESOURCE_GROUP" \
			--location "$LOCATION" --sku B1 --is-linux -o none
	hosting=(--plan "$PLAN_NAME")
	;;
esac

# runtime custom is what a custom handler needs: FUNCTIONS_WORKER_RUNTIME
# custom on Premium and Dedicated, functionAppConfig.runtime custom on Flex
# (which ignores FUNCTIONS_WORKER_RUNTIME), so it is set here and nowhere
# else.
az_exists functionapp show --name "$NAME" --resource-group "$RESOURCE_GROUP" -o none ||
	az_change functionapp create --name "$NAME" --resource-group "$RESOURCE_GROUP" \
		--storage-account "$STORAGE" "${hosting[@]}" --os-type Linux --runtime custom \
		--functions-version 4 --https-only true -o none

# The host name Azure actually gave the app, which the connector calls.
APP_HOST=$(az_value "$NAME.azurewebsites.net" functionapp show --name "$NAME" \
	--resource-group "$RESOURCE_GROUP" --query defaultHostName -o tsv) ||
	die "could not read the function app's host name"
[ -n "$APP_HOST" ] || die "az functionapp show gave no host name for $NAME"

# --- the Tasks function's table ---------------------------------------------

# The account's id and table endpoint as Azure gives them: the role below
# is scoped to exactly this account, and a sovereign cloud's endpoint
# suffix comes out right.
storage_info=$(az_value "/subscriptions/<subscription-id>/resourceGroups/$RESOURCE_GROUP/providers/Microsoft.Storage/storageAccounts/$STORAGE"$'\n'"https://$STORAGE.table.core.windows.net/" \
	storage account show --name "$STORAGE" --resource-group "$RESOURCE_GROUP" \
	--query '[id,primaryEndpoints.table]' -o tsv) ||
	die "could not read the storage account $STORAGE"
STORAGE_ID=${storage_info%%[[:space:]]*}
TABLE_SERVICE_URI=${storage_info##*[[:space:]]}
TABLE_SERVICE_URI=${TABLE_SERVICE_URI%/}
if [ "$DRY_RUN" = 0 ]; then
	storage_id_lower=$(printf '%s' "$STORAGE_ID" | tr '[:upper:]' '[:lower:]')
	[[ $storage_id_lower =~ ^/subscriptions/[0-9a-f-]{36}/resourcegroups/[^/]+/providers/microsoft\.storage/storageaccounts/$STORAGE$ ]] ||
		die "az storage account show gave no id of the account $STORAGE (got \"$STORAGE_ID\")"
	[[ $TABLE_SERVICE_URI =~ ^https://$STORAGE\.table\.[a-z0-9.-]+$ ]] ||
		die "az storage account show gave no https table endpoint of the account $STORAGE (got \"$TABLE_SERVICE_URI\")"
fi

# The app's system-assigned managed identity, as which the handler reaches
# the table. On Flex Consumption the create above made it; an app on
# another plan, or made earlier without one, gets it here (assigning it
# keeps any user-assigned identity). A new identity holds no role yet, so
# none is looked up.
APP_PRINCIPAL_ID=$(az_lookup functionapp identity show --name "$NAME" --resource-group "$RESOURCE_GROUP" \
	--query principalId -o tsv) ||
	die "could not read the function app's managed identity"
IDENTITY_IS_NEW=0
if [ -z "$APP_PRINCIPAL_ID" ]; then
	IDENTITY_IS_NEW=1
	APP_PRINCIPAL_ID=$(az_value '<app-principal-id>' functionapp identity assign --name "$NAME" \
		--resource-group "$RESOURCE_GROUP" --query principalId -o tsv) ||
		die "could not give the function app a system-assigned managed identity"
fi
want_guid "the function app's managed identity" "$APP_PRINCIPAL_ID"

# Storage Table Data Contributor on the account: the rows, and the table
# itself should it ever go missing (the handler creates it then). The
# principal type spares az a Graph lookup, which a moment-old identity may
# not pass yet. Some ARM servers answer a second create with an "already
# exists" error (Azure/azure-cli#31995), so an assignment is looked for
# first.
role_count=0
if [ "$IDENTITY_IS_NEW" = 0 ]; then
	role_count=$(az_lookup role assignment list --scope "$STORAGE_ID" --role "$TABLE_DATA_ROLE" \
		--query "[?principalId=='$APP_PRINCIPAL_ID'] | length(@)" -o tsv) ||
		die "could not list the role assignments on the storage account $STORAGE; none is created while that is unknown"
	[[ $role_count =~ ^[0-9]+$ ]] || die "az role assignment list gave no count (got \"$role_count\")"
fi
if [ "$role_count" -eq 0 ]; then
	az_change role assignment create --assignee-object-id "$APP_PRINCIPAL_ID" \
		--assignee-principal-type ServicePrincipal --role "$TABLE_DATA_ROLE" --scope "$STORAGE_ID" -o none
fi

# The table, as an Azure Resource Manager resource: the PUT creates it, and
# on a rerun finds it there (200), its rows untouched.
az_change rest --method PUT \
	--url "$STORAGE_ID/tableServices/default/tables/$TASKS_TABLE?api-version=$STORAGE_API_VERSION" \
	--body '{}' -o none

# --- the API's app registration ---------------------------------------------

API_APP_ID=$(find_app "$API_DISPLAY_NAME") || exit
API_IS_NEW=0
if [ -z "$API_APP_ID" ]; then
	API_IS_NEW=1
	# Both ids from the create: a show right after it can 404.
	created=$(az_value $'<api-client-id>\n<api-object-id>' ad app create --display-name "$API_DISPLAY_NAME" \
		--sign-in-audience AzureADMyOrg --query '[appId,id]' -o tsv) ||
		die "could not create the API's app registration $API_DISPLAY_NAME"
	API_APP_ID=${created%%[[:space:]]*}
	API_OBJECT_ID=${created##*[[:space:]]}
else
	API_OBJECT_ID=$(az_value '<api-object-id>' ad app show --id "$API_APP_ID" --query id -o tsv) ||
		die "could not read the API's app registration $API_APP_ID"
fi
want_guid "the API's app registration (client id)" "$API_APP_ID"
want_guid "the API's app registration (object id)" "$API_OBJECT_ID"
ensure_sp "$API_APP_ID" "$API_IS_NEW"

# The scope keeps its id across runs: Graph refuses to drop an enabled
# scope, and the connector's permission names it by id. A new
# registration has none.
SCOPE_ID=""
if [ "$API_IS_NEW" = 0 ]; then
	SCOPE_ID=$(az_lookup ad app show --id "$API_APP_ID" \
		--query "api.oauth2PermissionScopes[?value=='$SCOPE'].id | [0]" -o tsv) ||
		die "could not read the scopes of the API's app registration $API_APP_ID"
	[ -z "$SCOPE_ID" ] || want_guid "the scope $SCOPE of $API_APP_ID" "$SCOPE_ID"
fi
SCOPE_IS_NEW=0
if [ -z "$SCOPE_ID" ]; then
	SCOPE_ID=$(new_guid '<scope-id>')
	SCOPE_IS_NEW=1
fi

API_URI="api://$API_APP_ID"
# Every aud a token for this API can carry: api://<id> (a v1 token for the
# connector's Resource URL) and the client id (any v2 token). Easy Auth's
# allowedAudiences and the handler's AUTH_AUDIENCES get this same list.
AUDIENCES=("$API_URI" "$API_APP_ID")
AUDIENCES_CSV=$(IFS=,; printf '%s' "${AUDIENCES[*]}")

SCOPE_JSON=$(printf '{"id":"%s","value":"%s","type":"User","isEnabled":true,"adminConsentDisplayName":"Call %s as the signed-in user","adminConsentDescription":"Lets the app call the %s API as the signed-in user.","userConsentDisplayName":"Call %s as you","userConsentDescription":"Lets the app call the %s API as you."}' \
	"$SCOPE_ID" "$SCOPE" "$NAME" "$NAME" "$NAME" "$NAME")

if [ "$SCOPE_IS_NEW" = 1 ]; then
	# A new scope goes in alone first: the pre-authorization below names
	# it, and so needs it to exist.
	az_change rest --method PATCH --url "$GRAPH/applications/$API_OBJECT_ID" \
		--body "$(printf '{"identifierUris":["%s"],"api":{"requestedAccessTokenVersion":2,"oauth2PermissionScopes":[%s]}}' "$API_URI" "$SCOPE_JSON")" \
		-o none
fi

# The app role, found by its value. One that is there stays as it is, and
# a note says when it is not what this API expects: Graph changes an
# enabled role only once it is disabled, which would take the role out of
# its holders' tokens meanwhile.
role_found=""
if [ "$API_IS_NEW" = 0 ]; then
	role_found=$(az_lookup ad app show --id "$API_APP_ID" \
		--query "appRoles[?value=='$TASKS_ROLE'] | [0].[id, to_string(isEnabled), join(' ', sort(allowedMemberTypes))]" -o tsv) ||
		die "could not read the app roles of the API's app registration $API_APP_ID"
fi
if [ -n "$role_found" ]; then
	read -r role_id role_enabled role_types <<<"$role_found"
	want_guid "the app role $TASKS_ROLE of $API_APP_ID" "$role_id"
	if [ "$role_enabled" != true ] || [ "$role_types" != "Application User" ]; then
		note "the app role $TASKS_ROLE of $API_DISPLAY_NAME is left as it is (enabled: $role_enabled; member types: ${role_types:-none}),"
		note "  though this API expects it enabled for both User and Application (docs/deploy.md)."
	fi
else
	# The roles there are go back as they are, without origin, which
	# Graph sets itself.
	roles_json="[]"
	if [ "$API_IS_NEW" = 0 ]; then
		roles_json=$(az_lookup ad app show --id "$API_APP_ID" \
			--query 'appRoles[].{allowedMemberTypes: allowedMemberTypes, description: description, displayName: displayName, id: id, isEnabled: isEnabled, value: value}' -o json) ||
			die "could not read the app roles of the API's app registration $API_APP_ID"
	fi
	ROLE_JSON=$(printf '{"allowedMemberTypes":["User","Application"],"description":"Read, create, change and delete the tasks of every user of the tenant in %s.","displayName":"Read and write all tasks","id":"%s","isEnabled":true,"value":"%s"}' \
		"$NAME" "$(new_guid '<role-id>')" "$TASKS_ROLE")
	roles_body=$(json_append "$roles_json" "$ROLE_JSON") || exit
	az_change rest --method PATCH --url "$GRAPH/applications/$API_OBJECT_ID" \
		--body "{\"appRoles\":$roles_body}" -o none
fi

# --- the connector's app registration ---------------------------------------

CONNECTOR_APP_ID=$(find_app "$CONNECTOR_DISPLAY_NAME") || exit
CONNECTOR_IS_NEW=0
if [ -z "$CONNECTOR_APP_ID" ]; then
	CONNECTOR_IS_NEW=1
	CONNECTOR_APP_ID=$(az_value '<connector-client-id>' ad app create --display-name "$CONNECTOR_DISPLAY_NAME" \
		--sign-in-audience AzureADMyOrg --query appId -o tsv) ||
		die "could not create the connector's app registration $CONNECTOR_DISPLAY_NAME"
fi
want_guid "the connector's app registration" "$CONNECTOR_APP_ID"
ensure_sp "$CONNECTOR_APP_ID" "$CONNECTOR_IS_NEW"

# az ad app permission add appends, duplicates included
# (Azure/azure-cli#24512): add the scope only when it is not there.
permission_count=0
if [ "$CONNECTOR_IS_NEW" = 0 ]; then
	permission_count=$(az_lookup ad app show --id "$CONNECTOR_APP_ID" \
		--query "requiredResourceAccess[?resourceAppId=='$API_APP_ID'].resourceAccess[] | [?id=='$SCOPE_ID'] | length(@)" -o tsv) ||
		die "could not read the connector registration's API permissions"
	[[ $permission_count =~ ^[0-9]+$ ]] || die "az ad app show gave no count of the connector's permissions (got \"$permission_count\")"
fi
if [ "$permission_count" -eq 0 ]; then
	az_change ad app permission add --id "$CONNECTOR_APP_ID" --api "$API_APP_ID" \
		--api-permissions "$SCOPE_ID=Scope" -o none
fi

# --web-redirect-uris replaces the list: keep what is registered already,
# which is read in full first, so that a failed read cannot pass for an
# empty list.
redirect_uris=()
registered=0
if [ "$CONNECTOR_IS_NEW" = 0 ]; then
	uris=$(az_lookup ad app show --id "$CONNECTOR_APP_ID" --query 'web.redirectUris[]' -o tsv) ||
		die "could not read the connector registration's redirect URIs; none is changed"
	while IFS= read -r uri; do
		if [ "$uri" = "$REDIRECT_URI" ]; then
			registered=1
		elif [ -n "$uri" ]; then
			redirect_uris+=("$uri")
		fi
	done <<<"$uris"
fi
if [ "$registered" = 0 ]; then
	redirect_uris+=("$REDIRECT_URI")
	az_change ad app update --id "$CONNECTOR_APP_ID" --web-redirect-uris "${redirect_uris[@]}" -o none
fi

# The whole api object, so that the token version, the scope and the
# pre-authorization hold together after every run.
az_change rest --method PATCH --url "$GRAPH/applications/$API_OBJECT_ID" \
	--body "$(printf '{"identifierUris":["%s"],"api":{"requestedAccessTokenVersion":2,"oauth2PermissionScopes":[%s],"preAuthorizedApplications":[{"appId":"%s","delegatedPermissionIds":["%s"]}]}}' \
		"$API_URI" "$SCOPE_JSON" "$CONNECTOR_APP_ID" "$SCOPE_ID")" \
	-o none

# Tenant-wide consent: an AllPrincipals grant of the scope to the
# connector. az replaces any grant between the two service principals
# with this one, so a rerun converges. Granting needs an administrator
# (or DelegatedPermissionGrant.ReadWrite.All); users need none, since the
# connector is pre-authorized, so a refusal is only a note.
GRANT=(ad app permission grant --id "$CONNECTOR_APP_ID" --api "$API_APP_ID" --scope "$SCOPE"
	--consent-type AllPrincipals -o none)
show az "${GRANT[@]}"
if [ "$DRY_RUN" = 0 ] && ! az "${GRANT[@]}"; then
	note "tenant-wide consent was not granted (that needs an administrator, and a new registration can take a minute to be seen)."
	note "  Users need none: the connector is pre-authorized on the API. An admin can still run:"
	quote_words az "${GRANT[@]}"
	note "  $QUOTED"
fi

# --- Easy Auth ----------------------------------------------------------------

EASY_AUTH=$(printf '{"properties":{"platform":{"enabled":true},"globalValidation":{"requireAuthentication":true,"unauthenticatedClientAction":"Return401"},"httpSettings":{"requireHttps":true},"identityProviders":{"azureActiveDirectory":{"enabled":true,"registration":{"openIdIssuer":"https://login.microsoftonline.com/%s/v2.0","clientId":"%s"},"validation":{"allowedAudiences":%s,"defaultAuthorizationPolicy":{"allowedApplications":%s}}}},"login":{"tokenStore":{"enabled":true}}}}' \
	"$TENANT_ID" "$API_APP_ID" "$(json_list "${AUDIENCES[@]}")" "$(json_list "$CONNECTOR_APP_ID")")
az_change rest --method PUT \
	--url "/subscriptions/{subscriptionId}/resourceGroups/$RESOURCE_GROUP/providers/Microsoft.Web/sites/$NAME/config/authsettingsV2?api-version=$AUTH_API_VERSION" \
	--body "$EASY_AUTH" -o none

# --- the handler's settings -------------------------------------------------

# After Easy Auth, so that a handler restarted by this change finds
# WEBSITE_AUTH_ENABLED=true, as AUTH_MODE=easyauth requires.
SETTINGS=(
	AUTH_MODE=easyauth
	"AUTH_TENANT_ID=$TENANT_ID"
	"AUTH_AUDIENCES=$AUDIENCES_CSV"
	"AUTH_ALLOWED_CLIENT_APPS=$CONNECTOR_APP_ID"
	"AUTH_REQUIRED_SCOPES=$SCOPE"
	AUTH_EASYAUTH_VERIFY_TOKEN=true
	TASKS_STORE=tables
	"TASKS_CONNECTION=$TASKS_CONNECTION_NAME"
	"${TASKS_CONNECTION_NAME}__tableServiceUri=$TABLE_SERVICE_URI"
	"${TASKS_CONNECTION_NAME}__credential=managedidentity"
	"TASKS_TABLE=$TASKS_TABLE"
)
az_change functionapp config appsettings set --name "$NAME" --resource-group "$RESOURCE_GROUP" \
	--settings "${SETTINGS[@]}" -o none

# --- the connector's files --------------------------------------------------

# The generator gets the same AUTH_* values as the function app, so it
# refuses a Resource URL or client id that the API would refuse. It is
# built by go run for this machine (empty GOOS and GOARCH), not ./handler,
# which make package leaves as a Linux binary.
GENERATOR=("AUTH_AUDIENCES=$AUDIENCES_CSV" "AUTH_ALLOWED_CLIENT_APPS=$CONNECTOR_APP_ID"
	"AUTH_REQUIRED_SCOPES=$SCOPE" GOOS= GOARCH= go run ./cmd/handler
	connector --out dist/connector --host "$APP_HOST" --client-id "$CONNECTOR_APP_ID"
	--resource "$API_URI" --tenant "$TENANT_ID" --name "$CONNECTOR_NAME")
show_comment "${GENERATOR[@]}"
if [ "$DRY_RUN" = 0 ]; then
	env "${GENERATOR[@]}" >&2 || die "go run ./cmd/handler connector failed"
fi

# --- the connector's credential ---------------------------------------------

# A trace (bash -x, or SHELLOPTS with xtrace) would print the secret in
# the assignment and the printf below. Turning it off here keeps the trace
# of everything before, which is what it is for, and cannot be forgotten
# the way refusing to run would be worked around.
{ set +x; } 2>/dev/null

if [ "$FEDERATED" = 1 ]; then
	note ""
	note "No client secret (--federated). On the connector's Security page choose \"Use managed identity\";"
	note "Power Platform shows an issuer and a subject. Add them to the connector registration:"
	note "  az ad app federated-credential create --id $CONNECTOR_APP_ID --parameters \\"
	note "    '{\"name\":\"$SECRET_NAME\",\"issuer\":\"<issuer>\",\"subject\":\"<subject>\",\"audiences\":[\"api://AzureADTokenExchange\"]}'"
else
	# Last, so that a failure earlier cannot lose a secret that was shown
	# once; and only when none of ours exists, so that a rerun does not
	# pile up secrets.
	existing=""
	if [ "$CONNECTOR_IS_NEW" = 0 ]; then
		existing=$(az_lookup ad app credential list --id "$CONNECTOR_APP_ID" \
			--query "[?displayName=='$SECRET_NAME'].keyId" -o tsv) ||
			die "could not list the connector registration's client secrets; none is created"
	fi
	if [ -n "$existing" ]; then
		note ""
		note "The connector registration already has a client secret named $SECRET_NAME; none is created."
		note "For a new one (then delete the old: az ad app credential delete --id $CONNECTOR_APP_ID --key-id <key-id>):"
		note "  az ad app credential reset --id $CONNECTOR_APP_ID --append --display-name $SECRET_NAME --years 1 --query password -o tsv"
	else
		show az ad app credential reset --id "$CONNECTOR_APP_ID" --append --display-name "$SECRET_NAME" \
			--years 1 --query password -o tsv
		if [ "$DRY_RUN" = 0 ]; then
			secret=$(az ad app credential reset --id "$CONNECTOR_APP_ID" --append --display-name "$SECRET_NAME" \
				--years 1 --query password -o tsv) ||
				die "could not create the connector's client secret"
			[ -n "$secret" ] || die "az ad app credential reset printed no secret"
			note ""
			note "The connector's client secret follows on stdout. It is shown once and expires in a year:"
			note "enter it on the connector's Security page, or pass it to paconn (docs/connector.md)."
			printf '%s\n' "$secret"
			unset secret
		fi
	fi
fi

note ""
note "Next: make publish APP=$NAME"
note "then create the connector from dist/connector (docs/connector.md)."
