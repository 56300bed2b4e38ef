package api

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/auth"
	"github.com/entrafunc/entrafunc/tasks"
	"github.com/entrafunc/entrafunc/tasks/taskstest"
)

// The string rules Power Platform sets for connector text (see
// docs/connector.md); the Spectral ruleset in tools/ checks the generated
// definition against the same rules.
var (
	pascalCase  = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	summaryRule = regexp.MustCompile(`^[A-Z][^/]*[A-Za-z0-9)]$`)
	titleCase   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*( [A-Z][A-Za-z0-9]*)*$`)
)

func TestRoutesHaveActions(t *testing.T) {
	// Every served route has its connector metadata, complete: the
	// generator writes the connector from nothing else.
	ops := map[string]string{}
	calls := map[string]string{}
	for _, rt := range Routes() {
		if len(rt.Actions) == 0 {
			t.Errorf("%s: no action", rt.Function)
		}
		for _, a := range rt.Actions {
			t.Run(rt.Function+"/"+a.OperationID, func(t *testing.T) {
				checkAction(t, rt, a, ops, calls)
			})
		}
	}
}

func TestDynamicValuesComeFromAnAction(t *testing.T) {
	// A parameter's values come from an action that lists them: an
	// action of the table whose answer holds Collection, an array of
	// objects with the Value and Title members.
	actions := Actions(Routes())
	for _, a := range actions {
		for _, p := range a.Params {
			v := p.Values
			if v == nil {
				continue
			}
			i := slices.IndexFunc(actions, func(l Action) bool { return l.OperationID == v.OperationID })
			if i < 0 || actions[i].Response.Object == nil {
				t.Errorf("%s.%s: values from %s, which is no action answering an object", a.OperationID, p.Name, v.OperationID)
				continue
			}
			j := slices.IndexFunc(actions[i].Response.Object.Fields, func(f Field) bool { return f.Name == v.Collection })
			if j < 0 || actions[i].Response.Object.Fields[j].Object == nil || actions[i].Response.Object.Fields[j].Type != "array" {
				t.Errorf("%s.%s: %s answers no array of objects %q", a.OperationID, p.Name, v.OperationID, v.Collection)
				continue
			}
			elem := actions[i].Response.Object.Fields[j].Object
			for _, m := range []string{v.Value, v.Title} {
				if !slices.ContainsFunc(elem.Fields, func(f Field) bool { return f.Name == m }) {
					t.Errorf("%s.%s: %s has no member %q", a.OperationID, p.Name, elem.Name, m)
				}
			}
		}
	}
}

func checkAction(t *testing.T, rt Route, a Action, ops, calls map[string]string) {
	if !slices.Contains(rt.Methods, a.Method) {
		t.Errorf("Action.Method %q is not among the served methods %v", a.Method, rt.Methods)
	}
	if a.Path != "" && !slices.Contains(rt.Paths(), a.Path) {
		t.Errorf("Action.Path %q is not one of the route's paths %v", a.Path, rt.Paths())
	}
	call := a.Method + " " + rt.PathOf(a)
	if other, ok := calls[call]; ok {
		t.Errorf("%s is also %s's call", call, other)
	}
	calls[call] = a.OperationID
	if !pascalCase.MatchString(a.OperationID) {
		t.Errorf("OperationID %q is not PascalCase", a.OperationID)
	}
	if other, ok := ops[strings.ToLower(a.OperationID)]; ok {
		t.Errorf("OperationID %q collides with %q", a.OperationID, other)
	}
	ops[strings.ToLower(a.OperationID)] = a.OperationID
	if len(a.Summary) > 80 || !summaryRule.MatchString(a.Summary) {
		t.Errorf("Summary %q: want sentence case, at most 80 characters, no '/', no trailing punctuation", a.Summary)
	}
	checkSentences(t, "Description", a.Description)
	if a.Description == a.Summary {
		t.Errorf("Description repeats the Summary")
	}
	if !slices.Contains([]Visibility{VisibilityImportant, VisibilityAdvanced, VisibilityInternal}, a.Visibility) {
		t.Errorf("Visibility %q is not important, advanced or internal", a.Visibility)
	}
	if a.Body != nil {
		checkObject(t, a.Body, nil)
	}
	r := a.Response
	checkSentences(t, "Response.Description", r.Description)
	switch {
	case r.Text != nil && r.Object == nil && r.ContentType == "text/plain":
		checkField(t, "Response.Text", *r.Text, false)
	case r.Object != nil && r.Text == nil && r.ContentType == "application/json":
		checkObject(t, r.Object, nil)
	case r.Object == nil && r.Text == nil && r.ContentType == "" && r.Status == http.StatusNoContent:
	default:
		t.Errorf("Response: want Text with text/plain, Object with application/json, or neither with 204; got %q text %v object %v status %d", r.ContentType, r.Text != nil, r.Object != nil, r.Status)
	}
	if r.Status != 0 && (r.Status < 200 || r.Status > 299) {
		t.Errorf("Response.Status %d is not a success", r.Status)
	}
	if r.NextLink != "" && (r.Object == nil || !slices.ContainsFunc(r.Object.Fields, func(f Field) bool { return f.Name == r.NextLink })) {
		t.Errorf("Response.NextLink %q is not a member of the response", r.NextLink)
	}
	for _, h := range r.Headers {
		checkField(t, "Response.Headers", h, true)
		if h.Type == "object" || h.Type == "array" {
			t.Errorf("header %s: Type %q; a header is a string, integer, number or boolean", h.Name, h.Type)
		}
	}
	// Every {name} of the path has its path parameter, and no other.
	var inPath []string
	for seg := range strings.SplitSeq(rt.PathOf(a), "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			inPath = append(inPath, strings.TrimSuffix(name, "}"))
		}
	}
	var declared []string
	for _, p := range a.Params {
		checkField(t, "Params", p.Field, true)
		if p.Visibility == "" {
			t.Errorf("parameter %s has no Visibility", p.Name)
		}
		if p.Required && p.Visibility == VisibilityInternal {
			t.Errorf("parameter %s is required and internal: makers could never give it", p.Name)
		}
		if p.Type == "object" || p.Type == "array" && p.Items == "object" || p.Object != nil {
			t.Errorf("parameter %s: a path, query or header parameter holds no object", p.Name)
		}
		switch p.In {
		case "path":
			declared = append(declared, p.Name)
			if !p.Required {
				t.Errorf("path parameter %s is not required", p.Name)
			}
		case "query", "header":
		default:
			t.Errorf("parameter %s: In %q is not path, query or header", p.Name, p.In)
		}
		if v := p.Values; v != nil && (v.OperationID == "" || v.Collection == "" || v.Value == "" || v.Title == "") {
			t.Errorf("parameter %s: dynamic values %+v are incomplete", p.Name, *v)
		}
	}
	if !slices.Equal(inPath, declared) {
		t.Errorf("path parameters %v, but the path %s has %v", declared, rt.PathOf(a), inPath)
	}
	for _, s := range a.Errors {
		if ErrorDescription(s) == "" {
			t.Errorf("error status %d has no ErrorDescription", s)
		}
	}
	if a.Example.Text != "" && r.Text == nil {
		t.Errorf("Example.Text set for a response that is not text")
	}
	if a.Example.Body != "" && (a.Body == nil || !json.Valid([]byte(a.Example.Body))) {
		t.Errorf("Example.Body %q: want valid JSON for an action with a Body", a.Example.Body)
	}
}

func checkSentences(t *testing.T, what, s string) {
	t.Helper()
	if s == "" || !strings.HasSuffix(s, ".") || strings.ToUpper(s[:1]) != s[:1] {
		t.Errorf("%s %q: want sentences starting upper-case and ending with a period", what, s)
	}
}

func checkField(t *testing.T, what string, f Field, named bool) {
	t.Helper()
	if named && f.Name == "" {
		t.Errorf("%s: no Name", what)
	}
	if len(f.Title) > 80 || !titleCase.MatchString(f.Title) {
		t.Errorf("%s %q: Title %q is not Title Case within 80 characters", what, f.Name, f.Title)
	}
	checkSentences(t, what+" "+f.Name+" Description", f.Description)
	if f.Visibility != "" && !slices.Contains([]Visibility{VisibilityImportant, VisibilityAdvanced, VisibilityInternal}, f.Visibility) {
		t.Errorf("%s %q: Visibility %q", what, f.Name, f.Visibility)
	}
	if (f.Type == "array") != (f.Items != "") {
		t.Errorf("%s %q: Type %q with Items %q", what, f.Name, f.Type, f.Items)
	}
}

// checkObject checks o and the objects its members hold; seen are the
// objects that hold o, which it must not be.
func checkObject(t *testing.T, o *Object, seen []*Object) {
	t.Helper()
	if slices.Contains(seen, o) {
		t.Errorf("%s holds itself", o.Name)
		return
	}
	seen = append(seen, o)
	if !pascalCase.MatchString(o.Name) {
		t.Errorf("object name %q is not PascalCase", o.Name)
	}
	checkSentences(t, o.Name+" Description", o.Description)
	if len(o.Fields) == 0 {
		t.Errorf("%s has no fields", o.Name)
	}
	for _, f := range o.Fields {
		checkField(t, o.Name, f, true)
		// An object member, or an array of objects, has its Object
		// (a definition of its own in the connector); nothing else has.
		if nested := f.Type == "object" || f.Type == "array" && f.Items == "object"; nested != (f.Object != nil) {
			t.Errorf("%s.%s: Type %q, Items %q, Object set %v: an Object describes an object member or an array's object elements", o.Name, f.Name, f.Type, f.Items, f.Object != nil)
		}
		if f.Object != nil {
			checkObject(t, f.Object, seen)
		}
	}
}

func TestActionsAreDescribed(t *testing.T) {
	// The described members are exactly the JSON members the API writes:
	// none undescribed, none described that no longer exists.
	full := &auth.Principal{TenantID: "t", ObjectID: "o", Name: "n", Username: "u", Scopes: []string{}, Roles: []string{},
		Groups: []string{}, ClientAppID: "c", TokenVersion: "2.0", Source: auth.SourceDev}
	pb := problem{Type: "t", Title: "t", Status: 1, Detail: "d", Code: "c", Rule: "r", RequestID: "r"}
	for _, tc := range []struct {
		obj  *Object
		docs map[string]Field
		v    any
	}{
		{principalObject(), principalDocs, full},
		{ProblemObject(), problemDocs, pb},
	} {
		t.Run(tc.obj.Name, func(t *testing.T) {
			b, _ := json.Marshal(tc.v)
			var m map[string]any
			json.Unmarshal(b, &m)
			written := slices.Sorted(maps.Keys(m))
			var fields []string
			for _, f := range tc.obj.Fields {
				fields = append(fields, f.Name)
			}
			slices.Sort(fields)
			if !slices.Equal(written, fields) {
				t.Errorf("fields %v, but the API writes %v", fields, written)
			}
			if docs := slices.Sorted(maps.Keys(tc.docs)); !slices.Equal(docs, written) {
				t.Errorf("documented %v, but the API writes %v", docs, written)
			}
			checkObject(t, tc.obj, nil)
		})
	}
}

func TestActionRequiredFields(t *testing.T) {
	// A member the API may leave out (omitempty) is not required.
	got := map[string]bool{}
	for _, f := range principalObject().Fields {
		got[f.Name] = f.Required
	}
	want := map[string]bool{"tid": true, "oid": true, "name": false, "username": false, "scopes": true, "roles": true,
		"groups": true, "clientAppId": false, "tokenVersion": false, "source": true}
	if !maps.Equal(got, want) {
		t.Errorf("required = %v, want %v", got, want)
	}
}

func TestActionExamplesHold(t *testing.T) {
	// Each action's example, sent to the server, gets its success status
	// and, for text, exactly the expected answer: the collection's
	// assertions are the API's real behaviour, not a copy of it. A path's
	// {id} is a task the caller made first.
	f := newFixture(t, func(o *Options) { o.Tasks = tasks.NewService(taskstest.NewMemory(), tasks.Options{}) })
	w := f.do(t, jsonReq(http.MethodPost, "/api/tasks", goodToken, `{"title":"an example"}`))
	var made taskJSON
	if err := json.Unmarshal(w.Body.Bytes(), &made); err != nil || w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	for _, a := range Actions(Routes()) {
		var body *strings.Reader
		q := req{method: a.Method, target: strings.ReplaceAll(a.Path, "{id}", made.ID), token: goodToken}
		if a.Example.Body != "" {
			body = strings.NewReader(a.Example.Body)
			q.body, q.ctype = body, "application/json"
		}
		w := f.do(t, q)
		if want := cmp.Or(a.Response.Status, http.StatusOK); w.Code != want {
			t.Errorf("%s: %d %s, want %d", a.OperationID, w.Code, w.Body, want)
			continue
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, a.Response.ContentType) {
			t.Errorf("%s: Content-Type %q, want %s", a.OperationID, ct, a.Response.ContentType)
		}
		if a.Example.Text != "" && w.Body.String() != a.Example.Text {
			t.Errorf("%s: answered %q, want the example's %q", a.OperationID, w.Body, a.Example.Text)
		}
		for _, h := range a.Response.Headers {
			if w.Header().Get(h.Name) == "" {
				t.Errorf("%s: no %s header", a.OperationID, h.Name)
			}
		}
	}
}

func TestHelloExampleIsTheTutorials(t *testing.T) {
	i := slices.IndexFunc(Actions(Routes()), func(a Action) bool { return a.OperationID == "SayHello" })
	a := Actions(Routes())[i]
	if a.Example.Body != `{"name": "Marc"}` || a.Example.Text != "Hello, Marc. This HTTP triggered function executed successfully." {
		t.Errorf("Hello's example is %q → %q, not the tutorial's", a.Example.Body, a.Example.Text)
	}
}
