// Package connector writes the Power Platform custom connector for the
// API from the route table that the server is built from, so that the
// connector cannot drift from what is served.
//
// [Generate] turns a [Config] and [api.Routes] into the files that
// `pac connector create` and `paconn create` take, plus a Postman
// collection that exercises every action:
//
//   - apiDefinition.swagger.json: OpenAPI 2.0 with the x-ms extensions,
//     one operation per [api.Action] (its parameters, with
//     x-ms-dynamic-values; its request and response schemas, success
//     status and headers; x-ms-pageable for a page of a list), and an
//     Entra ID (AAD) oauth2 security definition whose scopes are the API's
//     required scopes;
//   - apiProperties.json: the AAD OAuth connection (client id, Resource
//     URL, tenant, the per-connector redirect), branding, and the
//     updatenextlink policy of each pageable action. It never holds a
//     client secret: that is passed when the connector is created;
//   - NAME.postman_collection.json: Postman v2.1, every action with tests
//     of its status, headers and body, using only the variables baseUrl
//     and token. A route whose actions take a path parameter is walked
//     through the life of one item (create, list, get, update, update
//     with an outdated ETag, delete, get), which collection variables
//     carry from one request to the next;
//   - settings.json: paconn's argument file naming the two files above.
//
// The Resource URL must be an audience the API accepts: a connector's
// token carries it as aud, so any other value makes every call a 401.
// [CheckResource] says so before anyone creates the connector; both
// `handler connector` and `handler check --connector-resource` call it.
//
// Output is deterministic for a given Config (the golden tests pin it),
// encoded as UTF-8 without a byte order mark and indented with four
// spaces, as Microsoft's connector coding standards ask. The rules the
// text follows are listed in docs/connector.md.
package connector
