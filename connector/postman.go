package connector

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/entrafunc/entrafunc/api"
)

// postmanSchema identifies Postman's collection format v2.1.
const postmanSchema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

// The Postman v2.1 collection.
type postmanCollection struct {
	Info  postmanInfo    `json:"info"`
	Auth  postmanAuth    `json:"auth"`
	Event []postmanEvent `json:"event"`
	Item  []postmanItem  `json:"item"`
}

type postmanInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Schema      string `json:"schema"`
}

type postmanAuth struct {
	Type   string       `json:"type"`
	Bearer []postmanKey `json:"bearer"`
}

type postmanKey struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Type  string `json:"type,omitempty"`
}

type postmanEvent struct {
	Listen string        `json:"listen"`
	Script postmanScript `json:"script"`
}

type postmanScript struct {
	Type string   `json:"type"`
	Exec []string `json:"exec"`
}

type postmanItem struct {
	Name    string         `json:"name"`
	Event   []postmanEvent `json:"event"`
	Request postmanRequest `json:"request"`
}

type postmanRequest struct {
	Method      string       `json:"method"`
	Header      []postmanKey `json:"header"`
	Body        *postmanBody `json:"body,omitempty"`
	URL         postmanURL   `json:"url"`
	Description string       `json:"description"`
}

type postmanBody struct {
	Mode    string `json:"mode"`
	Raw     string `json:"raw"`
	Options struct {
		Raw struct {
			Language string `json:"language"`
		} `json:"raw"`
	} `json:"options"`
}

type postmanURL struct {
	Raw  string   `json:"raw"`
	Host []string `json:"host"`
	Path []string `json:"path"`
}

// The collection's two variables. They are declared nowhere in the
// collection: a collection variable would outrank a global, so that
// newman --global-var could not set it.
const (
	baseURLVar = "baseUrl"
	tokenVar   = "token"
)

// checkVariables fails the run at once, naming what to set, when a
// variable is missing: otherwise Postman would call a literal {{baseUrl}}.
var checkVariables = []string{
	`// The collection needs two variables: baseUrl (such as https://<app>.azurewebsites.net,`,
	`// or http://127.0.0.1:7071 for make dev) and token (an access token for the API).`,
	`for (const name of ["` + baseURLVar + `", "` + tokenVar + `"]) {`,
	`    if (!pm.variables.get(name)) {`,
	"        throw new Error(`set the ${name} variable, for example: newman run <collection> --env-var ${name}=<value>`);",
	`    }`,
	`}`,
}

func collection(c Config, routes []api.Route) postmanCollection {
	col := postmanCollection{
		Info: postmanInfo{
			Name:        c.Title,
			Description: "Calls every action of the " + c.Title + " connector and checks each answer. Set baseUrl and token.",
			Schema:      postmanSchema,
		},
		Auth:  postmanAuth{Type: "bearer", Bearer: []postmanKey{{Key: "token", Value: "{{" + tokenVar + "}}", Type: "string"}}},
		Event: []postmanEvent{{Listen: "prerequest", Script: postmanScript{Type: "text/javascript", Exec: checkVariables}}},
		Item:  []postmanItem{},
	}
	for _, rt := range routes {
		for _, st := range plan(rt) {
			col.Item = append(col.Item, st.item())
		}
	}
	return col
}

// step is one request of the collection: an action called with its
// example, and what the answer must be.
type step struct {
	a api.Action
	// name and description default to the action's summary and
	// description.
	name, description string
	// want is the status expected; an error status expects a problem.
	want int
	// res is the resource the route serves, nil for a route without a
	// path parameter.
	res *resource
	// ifMatch names the collection variable sent as If-Match, if any.
	ifMatch string
	// extra are more checks and scripts, after the checks of the answer.
	extra []string
}

// resource is what the collection knows of a route that addresses one
// item by a path parameter: the create action whose answer names the
// item, the member that names it, and the collection variables that carry
// its identity and ETag from one request to the next.
type resource struct {
	create api.Action
	// param is the path parameter; member is the member of the create's
	// answer (and of the items of a list) that gives its value.
	param, member string
	// list and collection: the action whose answer lists the items, in
	// that member (x-ms-dynamic-values), if the parameter names one.
	list, collection string
	// etag says the create answers an ETag header.
	etag bool
	// The collection variables.
	idVar, etagVar, staleVar string
}

// The header that carries a resource's version, and the one that makes a
// request conditional on it.
const (
	etagHeader    = "ETag"
	ifMatchHeader = "If-Match"
)

// plan lists the steps that call rt's actions. A route without a path
// parameter gets one step per action, in order. A route that addresses
// items gets the lifecycle of one item: create it, list, get, update with
// its ETag, update again with the ETag that update replaced (412), delete
// it, and get it again (404); checkFlows has made sure the route has what
// that needs.
func plan(rt api.Route) []step {
	actions := make([]api.Action, len(rt.Actions))
	for i, a := range rt.Actions {
		a.Path = rt.PathOf(a)
		actions[i] = a
	}
	res := resourceOf(rt.Function, actions)
	if res == nil {
		var out []step
		for _, a := range actions {
			out = append(out, step{a: a, want: successStatus(a)})
		}
		return out
	}
	var (
		create, collection, reads, others, updates, deletes, gone []step
	)
	for _, a := range actions {
		st := step{a: a, want: successStatus(a), res: res}
		if a.OperationID == res.create.OperationID {
			create = append(create, res.afterCreate(st))
			continue
		}
		if len(pathParams(a.Path)) == 0 {
			if a.OperationID == res.list {
				st.extra = res.listed()
			}
			collection = append(collection, st)
			continue
		}
		conditional := res.etag && slices.ContainsFunc(a.Params, func(p api.Param) bool {
			return p.In == "header" && strings.EqualFold(p.Name, ifMatchHeader)
		})
		switch a.Method {
		case http.MethodGet:
			reads = append(reads, res.afterRead(st))
			if slices.Contains(a.Errors, http.StatusNotFound) {
				g := step{a: a, want: http.StatusNotFound, res: res,
					name:        a.Summary + ", once deleted",
					description: a.Description + " Called after the delete, it answers 404."}
				gone = append(gone, g)
			}
		case http.MethodPatch, http.MethodPut:
			if conditional {
				st.ifMatch = res.etagVar
			}
			updates = append(updates, res.afterUpdate(st))
			if conditional && slices.Contains(a.Errors, http.StatusPreconditionFailed) {
				updates = append(updates, step{a: a, want: http.StatusPreconditionFailed, res: res, ifMatch: res.staleVar,
					name:        a.Summary + " with an outdated ETag",
					description: a.Description + " Called with the ETag that the update before it replaced, it answers 412."})
			}
		case http.MethodDelete:
			if conditional {
				st.ifMatch = res.etagVar
			}
			deletes = append(deletes, st)
		default:
			others = append(others, st)
		}
	}
	if len(deletes) == 0 {
		gone = nil
	}
	return slices.Concat(create, collection, reads, others, updates, deletes, gone)
}

// resourceOf returns the resource of a route's actions, or nil when no
// action has a path parameter.
func resourceOf(function string, actions []api.Action) *resource {
	var res *resource
	for _, a := range actions {
		for _, p := range a.Params {
			if p.In != "path" || res != nil {
				continue
			}
			res = &resource{param: p.Name, member: p.Name}
			if v := p.Values; v != nil {
				res.member, res.list, res.collection = v.Value, v.OperationID, v.Collection
			}
		}
	}
	if res == nil {
		return nil
	}
	for _, a := range actions {
		if a.Method == http.MethodPost && len(pathParams(a.Path)) == 0 && a.Response.Status == http.StatusCreated {
			res.create = a
			res.etag = slices.ContainsFunc(a.Response.Headers, func(h api.Field) bool { return strings.EqualFold(h.Name, etagHeader) })
			break
		}
	}
	prefix := strings.ToLower(function[:1]) + function[1:]
	res.idVar = prefix + strings.ToUpper(res.param[:1]) + res.param[1:]
	res.etagVar = prefix + etagHeader
	res.staleVar = prefix + "Stale" + etagHeader
	return res
}

// checkFlows refuses a route the collection could not walk: one that
// addresses items by more than one path parameter, or has no create
// action (POST on the collection, answering 201 with the item) whose
// answer gives the parameter's value.
func checkFlows(routes []api.Route) []error {
	var errs []error
	for _, rt := range routes {
		actions := make([]api.Action, len(rt.Actions))
		for i, a := range rt.Actions {
			a.Path = rt.PathOf(a)
			actions[i] = a
		}
		names := map[string]bool{}
		for _, a := range actions {
			for _, n := range pathParams(a.Path) {
				names[n] = true
			}
		}
		if len(names) > 1 {
			errs = append(errs, invalid(fmt.Sprintf("route %s: the collection fills one path parameter, and the route has %d", rt.Function, len(names))))
			continue
		}
		res := resourceOf(rt.Function, actions)
		if res == nil {
			continue
		}
		if res.create.OperationID == "" || res.create.Response.Object == nil ||
			!slices.ContainsFunc(res.create.Response.Object.Fields, func(f api.Field) bool { return f.Name == res.member && f.Type == "string" }) {
			errs = append(errs, invalid(fmt.Sprintf("route %s: its actions take the path parameter %s, so the collection needs an action that creates an item to call them on: a POST on the route's first path, answering 201 with an object whose string member %q names the item", rt.Function, res.param, res.member)))
		}
	}
	return errs
}

// pathParams returns the {names} of a path.
func pathParams(path string) []string {
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			out = append(out, strings.TrimSuffix(name, "}"))
		}
	}
	return out
}

// js writes v as a JavaScript literal.
func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// variable is a collection variable's value, in a script.
func variable(name string) string { return `pm.collectionVariables.get(` + js(name) + `)` }

// afterCreate keeps what the create answered for the requests after it,
// and forgets what an earlier run kept, so that they never work on an
// item this run did not create.
func (r *resource) afterCreate(st step) step {
	set := []string{`    pm.collectionVariables.set(` + js(r.idVar) + `, pm.response.json()[` + js(r.member) + `]);`}
	unset := []string{r.idVar}
	if r.etag {
		set = append(set, `    pm.collectionVariables.set(`+js(r.etagVar)+`, pm.response.headers.get(`+js(etagHeader)+`));`)
		unset = append(unset, r.etagVar)
	}
	st.extra = append(st.extra, `// The requests after this one work on the item it creates.`)
	st.extra = append(st.extra, `pm.collectionVariables.unset(`+js(r.staleVar)+`);`)
	st.extra = append(st.extra, `if (pm.response.code === `+strconv.Itoa(st.want)+`) {`)
	st.extra = append(st.extra, set...)
	st.extra = append(st.extra, `} else {`)
	for _, v := range unset {
		st.extra = append(st.extra, `    pm.collectionVariables.unset(`+js(v)+`);`)
	}
	st.extra = append(st.extra, `}`)
	return st
}

// listed checks that the list holds the item created.
func (r *resource) listed() []string {
	return []string{
		`pm.test(` + js(r.collection+" lists the item created") + `, function () {`,
		`    const listed = pm.response.json()[` + js(r.collection) + `].map(function (v) { return v[` + js(r.member) + `]; });`,
		`    pm.expect(listed).to.include(` + variable(r.idVar) + `);`,
		`});`,
	}
}

// itself checks that the answer is the item created.
func (r *resource) itself(st step) []string {
	if st.a.Response.Object == nil || !slices.ContainsFunc(st.a.Response.Object.Fields, func(f api.Field) bool { return f.Name == r.member }) {
		return nil
	}
	return []string{
		`pm.test(` + js(r.member+" is the item created") + `, function () {`,
		`    pm.expect(pm.response.json()[` + js(r.member) + `]).to.eql(` + variable(r.idVar) + `);`,
		`});`,
	}
}

// answersETag reports whether st's action answers an ETag, and the
// resource keeps one.
func (r *resource) answersETag(st step) bool {
	return r.etag && slices.ContainsFunc(st.a.Response.Headers, func(h api.Field) bool { return strings.EqualFold(h.Name, etagHeader) })
}

// afterRead checks that a read answers the item, at the version kept.
func (r *resource) afterRead(st step) step {
	st.extra = r.itself(st)
	if r.answersETag(st) {
		st.extra = append(st.extra,
			`pm.test("ETag is the item's current one", function () {`,
			`    pm.expect(pm.response.headers.get(`+js(etagHeader)+`)).to.eql(`+variable(r.etagVar)+`);`,
			`});`)
	}
	return st
}

// afterUpdate checks that an update answers a new ETag, and keeps it,
// with the one it replaced for the request that sends an outdated one.
func (r *resource) afterUpdate(st step) step {
	st.extra = r.itself(st)
	if !r.answersETag(st) {
		return st
	}
	st.extra = append(st.extra,
		`pm.test("ETag is a new one", function () {`,
		`    pm.expect(pm.response.headers.get(`+js(etagHeader)+`)).to.not.eql(`+variable(r.etagVar)+`);`,
		`});`,
		`// The next requests send the new ETag, or the one it replaced.`,
		`if (pm.response.code === `+strconv.Itoa(st.want)+`) {`,
		`    pm.collectionVariables.set(`+js(r.staleVar)+`, `+variable(r.etagVar)+`);`,
		`    pm.collectionVariables.set(`+js(r.etagVar)+`, pm.response.headers.get(`+js(etagHeader)+`));`,
		`}`)
	return st
}

// item is the step as a collection item.
func (st step) item() postmanItem {
	a := st.a
	path := a.Path
	if st.res != nil {
		path = strings.ReplaceAll(path, "{"+st.res.param+"}", "{{"+st.res.idVar+"}}")
	}
	req := postmanRequest{
		Method:      a.Method,
		Header:      []postmanKey{},
		URL:         postmanURL{Raw: "{{" + baseURLVar + "}}" + path, Host: []string{"{{" + baseURLVar + "}}"}, Path: strings.Split(strings.TrimPrefix(path, "/"), "/")},
		Description: cmp.Or(st.description, a.Description),
	}
	if a.Response.ContentType != "" {
		req.Header = append(req.Header, postmanKey{Key: "Accept", Value: a.Response.ContentType})
	}
	if st.ifMatch != "" {
		req.Header = append(req.Header, postmanKey{Key: ifMatchHeader, Value: "{{" + st.ifMatch + "}}"})
	}
	if a.Example.Body != "" {
		req.Header = append(req.Header, postmanKey{Key: "Content-Type", Value: "application/json"})
		b := &postmanBody{Mode: "raw", Raw: a.Example.Body}
		b.Options.Raw.Language = "json"
		req.Body = b
	}
	return postmanItem{
		Name:    cmp.Or(st.name, a.Summary),
		Event:   []postmanEvent{{Listen: "test", Script: postmanScript{Type: "text/javascript", Exec: append(st.tests(), st.extra...)}}},
		Request: req,
	}
}

// tests are the assertions on the answer: status, and content type
// unless it has no body; the exact text for a text example; for an
// object, every member's presence (when required), type and closed
// values, and no member the definition does not declare, in the objects
// it holds as well; the headers the action declares. An error status
// expects a problem (application/problem+json).
func (st step) tests() []string {
	a := st.a
	contentType, object := a.Response.ContentType, a.Response.Object
	if st.want != successStatus(a) {
		contentType, object = "application/problem+json", api.ProblemObject()
	}
	status := strconv.Itoa(st.want)
	t := []string{
		`pm.test("status is ` + status + `", function () {`,
		`    pm.response.to.have.status(` + status + `);`,
		`});`,
	}
	if contentType == "" {
		return append(t,
			`pm.test("body is empty", function () {`,
			`    pm.expect(pm.response.text()).to.eql("");`,
			`});`)
	}
	t = append(t,
		`pm.test("content type is `+contentType+`", function () {`,
		`    pm.expect(pm.response.headers.get("Content-Type")).to.include(`+js(contentType)+`);`,
		`});`,
	)
	if st.want != successStatus(a) {
		a.Example.Text, a.Response.Headers = "", nil
	}
	if a.Example.Text != "" {
		t = append(t,
			`pm.test("answers the example's text", function () {`,
			`    pm.expect(pm.response.text()).to.eql(`+js(a.Example.Text)+`);`,
			`});`,
		)
	}
	if object != nil {
		t = append(t, `pm.test("body is a `+object.Name+`", function () {`,
			`    const body = pm.response.json();`)
		t = append(t, objectChecks(object, "body", "    ", 1)...)
		t = append(t, `});`)
	}
	for _, h := range a.Response.Headers {
		t = append(t,
			`pm.test("has the `+h.Name+` header", function () {`,
			`    pm.response.to.have.header(`+js(h.Name)+`);`,
			`});`)
	}
	return t
}

// objectChecks are the checks that v, a JavaScript expression, is an
// object o describes, each line indented by indent. Objects held in a
// member are checked in a function of their own, whose parameter is
// e<depth>, so that their declared list does not clash with this one's.
func objectChecks(o *api.Object, v, indent string, depth int) []string {
	t := []string{indent + `pm.expect(` + v + `).to.be.an("object");`}
	var names []string
	for _, f := range o.Fields {
		names = append(names, f.Name)
		field := v + "[" + js(f.Name) + "]"
		if f.Required {
			t = append(t, indent+`pm.expect(`+v+`).to.have.property(`+js(f.Name)+`);`)
		}
		in := indent
		if !f.Required {
			in += "    "
		}
		check := []string{in + `pm.expect(` + field + `).to.be.a(` + js(chaiType(f.Type)) + `);`}
		switch e := "e" + strconv.Itoa(depth); {
		case f.Object != nil && f.Type == "array":
			check = append(check, in+field+`.forEach(function (`+e+`) {`)
			check = append(check, objectChecks(f.Object, e, in+"    ", depth+1)...)
			check = append(check, in+`});`)
		case f.Object != nil:
			check = append(check, in+`(function (`+e+`) {`)
			check = append(check, objectChecks(f.Object, e, in+"    ", depth+1)...)
			check = append(check, in+`})(`+field+`);`)
		case f.Type == "array":
			check = append(check, in+field+`.forEach(function (v) { pm.expect(v).to.be.a(`+js(chaiType(f.Items))+`); });`)
		}
		if len(f.Enum) > 0 {
			check = append(check, in+`pm.expect(`+js(f.Enum)+`).to.include(`+field+`);`)
		}
		if f.Required {
			t = append(t, check...)
			continue
		}
		t = append(t, indent+`if (`+js(f.Name)+` in `+v+`) {`)
		t = append(t, check...)
		t = append(t, indent+`}`)
	}
	return append(t,
		indent+`const declared = `+js(names)+`;`,
		indent+`Object.keys(`+v+`).forEach(function (k) { pm.expect(declared, "member " + k + " is not in the definition").to.include(k); });`)
}

// chaiType is the name chai's a() uses for a JSON Schema type.
func chaiType(t string) string {
	switch t {
	case "integer":
		return "number"
	}
	return t
}
