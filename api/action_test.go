package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/auth"
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
	for _, rt := range Routes() {
		t.Run(rt.Function, func(t *testing.T) {
			a := rt.Action
			if !slices.Contains(rt.Methods, a.Method) {
				t.Errorf("Action.Method %q is not among the served methods %v", a.Method, rt.Methods)
			}
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
				checkObject(t, a.Body)
			}
			r := a.Response
			checkSentences(t, "Response.Description", r.Description)
			switch {
			case r.Text != nil && r.Object == nil && r.ContentType == "text/plain":
				checkField(t, "Response.Text", *r.Text, false)
			case r.Object != nil && r.Text == nil && r.ContentType == "application/json":
				checkObject(t, r.Object)
			default:
				t.Errorf("Response: want Text with text/plain or Object with application/json, got %q text %v object %v", r.ContentType, r.Text != nil, r.Object != nil)
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
		})
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

func checkObject(t *testing.T, o *Object) {
	t.Helper()
	if !pascalCase.MatchString(o.Name) {
		t.Errorf("object name %q is not PascalCase", o.Name)
	}
	checkSentences(t, o.Name+" Description", o.Description)
	if len(o.Fields) == 0 {
		t.Errorf("%s has no fields", o.Name)
	}
	for _, f := range o.Fields {
		checkField(t, o.Name, f, true)
		if f.Type == "object" {
			t.Errorf("%s.%s: nested objects are not described", o.Name, f.Name)
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
			checkObject(t, tc.obj)
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
	// Each action's example, sent to the server, gets 200 and, for text,
	// exactly the expected answer: the collection's assertions are the
	// API's real behaviour, not a copy of it.
	f := newFixture(t, nil)
	for _, rt := range Routes() {
		a := rt.Action
		var body *strings.Reader
		q := req{method: a.Method, target: rt.Path(), token: goodToken}
		if a.Example.Body != "" {
			body = strings.NewReader(a.Example.Body)
			q.body, q.ctype = body, "application/json"
		}
		w := f.do(t, q)
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d %s", a.OperationID, w.Code, w.Body)
			continue
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, a.Response.ContentType) {
			t.Errorf("%s: Content-Type %q, want %s", a.OperationID, ct, a.Response.ContentType)
		}
		if a.Example.Text != "" && w.Body.String() != a.Example.Text {
			t.Errorf("%s: answered %q, want the example's %q", a.OperationID, w.Body, a.Example.Text)
		}
	}
}

func TestHelloExampleIsTheTutorials(t *testing.T) {
	i := slices.IndexFunc(Routes(), func(rt Route) bool { return rt.Function == "Hello" })
	a := Routes()[i].Action
	if a.Example.Body != `{"name": "Marc"}` || a.Example.Text != "Hello, Marc. This HTTP triggered function executed successfully." {
		t.Errorf("Hello's example is %q → %q, not the tutorial's", a.Example.Body, a.Example.Text)
	}
}
