package connector

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/api"
)

// route returns the route of routes serving function, failing the test
// when there is none.
func route(t *testing.T, routes []api.Route, function string) *api.Route {
	t.Helper()
	i := slices.IndexFunc(routes, func(rt api.Route) bool { return rt.Function == function })
	if i < 0 {
		t.Fatalf("no route %s", function)
	}
	return &routes[i]
}

// action returns rt's action operationID, failing the test when there is
// none.
func action(t *testing.T, rt *api.Route, operationID string) *api.Action {
	t.Helper()
	i := slices.IndexFunc(rt.Actions, func(a api.Action) bool { return a.OperationID == operationID })
	if i < 0 {
		t.Fatalf("route %s has no action %s", rt.Function, operationID)
	}
	return &rt.Actions[i]
}

// generated decodes the files Generate writes for routes: the definition,
// the properties and the collection, as generic JSON.
func generated(t *testing.T, routes []api.Route) (def, props, col map[string]any) {
	t.Helper()
	files, err := Generate(goldenConfig, routes)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, 3)
	for i := range out {
		if err := json.Unmarshal(files[i].Data, &out[i]); err != nil {
			t.Fatalf("%s: %v", files[i].Name, err)
		}
	}
	return out[0], out[1], out[2]
}

// at walks keys (object members, or array indexes as ints) from v.
func at(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for i, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %v", keys, keys[:i])
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("%v: no member %q at %v", keys, k, keys[:i])
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no element %d at %v", keys, k, keys[:i])
			}
			v = a[k]
		}
	}
	return v
}

func TestDefinitionOfTheTasksResource(t *testing.T) {
	// What the definition says of a resource route: statuses, headers,
	// parameters with their dynamic values, the pageable list and its
	// policy, and references to the item definition.
	def, props, _ := generated(t, api.Routes())
	op := func(path, method string) map[string]any {
		return at(t, def, "paths", path, method).(map[string]any)
	}
	list, create := op("/tasks", "get"), op("/tasks", "post")
	get, update, del := op("/tasks/{id}", "get"), op("/tasks/{id}", "patch"), op("/tasks/{id}", "delete")

	if got := at(t, list, "x-ms-pageable"); !reflect.DeepEqual(got, map[string]any{"nextLinkName": "@odata.nextLink"}) {
		t.Errorf("ListTasks x-ms-pageable = %v", got)
	}
	wantPolicy := []any{map[string]any{
		"templateId": "updatenextlink",
		"title":      "Route the @odata.nextLink of a page through the connector",
		"parameters": map[string]any{
			"x-ms-apimTemplate-operationName":                 []any{"ListTasks"},
			"x-ms-apimTemplateParameter.nextLinkPropertyName": "@odata.nextLink",
		},
	}}
	if got := at(t, props, "properties", "policyTemplateInstances"); !reflect.DeepEqual(got, wantPolicy) {
		t.Errorf("policyTemplateInstances = %v, want %v", got, wantPolicy)
	}
	for _, o := range []map[string]any{create, get, update, del} {
		if _, ok := o["x-ms-pageable"]; ok {
			t.Errorf("%s is pageable", o["operationId"])
		}
	}

	// Success statuses and their headers.
	for _, c := range []struct {
		op      map[string]any
		status  string
		schema  string
		headers []string
	}{
		{list, "200", "#/definitions/TaskList", nil},
		{create, "201", "#/definitions/Task", []string{"ETag", "Location"}},
		{get, "200", "#/definitions/Task", []string{"ETag"}},
		{update, "200", "#/definitions/Task", []string{"ETag"}},
		{del, "204", "", nil},
	} {
		responses := c.op["responses"].(map[string]any)
		var success []string
		for k := range responses {
			if k[0] == '2' {
				success = append(success, k)
			}
		}
		if !slices.Equal(success, []string{c.status}) {
			t.Errorf("%s: success responses %v, want %s", c.op["operationId"], success, c.status)
			continue
		}
		r := responses[c.status].(map[string]any)
		if c.schema == "" {
			if _, ok := r["schema"]; ok {
				t.Errorf("%s: a %s response with a schema", c.op["operationId"], c.status)
			}
		} else if ref := at(t, r, "schema", "$ref"); ref != c.schema {
			t.Errorf("%s: schema %v, want %s", c.op["operationId"], ref, c.schema)
		}
		headers, _ := r["headers"].(map[string]any)
		if got := slices.Sorted(maps.Keys(headers)); !slices.Equal(got, c.headers) {
			t.Errorf("%s: headers %v, want %v", c.op["operationId"], got, c.headers)
		}
		for name, h := range headers {
			h := h.(map[string]any)
			if h["type"] != "string" || h["x-ms-summary"] == nil || h["description"] == nil {
				t.Errorf("%s: header %s = %v", c.op["operationId"], name, h)
			}
		}
	}
	if got := at(t, del, "produces"); !reflect.DeepEqual(got, []any{"application/problem+json"}) {
		t.Errorf("DeleteTask produces %v: only its errors have a body", got)
	}
	// Power Platform sends a body as application/json, an update too.
	if got := at(t, update, "consumes"); !reflect.DeepEqual(got, []any{"application/json"}) {
		t.Errorf("UpdateTask consumes %v", got)
	}

	// The task's id: a path parameter whose values ListTasks lists.
	wantID := map[string]any{
		"name": "id", "in": "path", "required": true, "type": "string",
		"description": "The task's ID, as the list of tasks gives it.", "x-ms-summary": "Task ID", "x-ms-visibility": "important",
		"x-ms-dynamic-values": map[string]any{"operationId": "ListTasks", "value-collection": "value", "value-path": "id", "value-title": "title"},
	}
	for _, o := range []map[string]any{get, update, del} {
		if got := at(t, o, "parameters", 0); !reflect.DeepEqual(got, wantID) {
			t.Errorf("%s: first parameter %v, want %v", o["operationId"], got, wantID)
		}
	}
	for _, o := range []map[string]any{update, del} {
		p := at(t, o, "parameters", 1).(map[string]any)
		if p["name"] != "If-Match" || p["in"] != "header" || p["required"] != false || p["type"] != "string" {
			t.Errorf("%s: second parameter %v, want the optional If-Match header", o["operationId"], p)
		}
	}
	var query []string
	for _, p := range at(t, list, "parameters").([]any) {
		p := p.(map[string]any)
		query = append(query, p["in"].(string)+" "+p["name"].(string)+" "+p["type"].(string))
	}
	if want := []string{"query done boolean", "query owner string", "query $top integer"}; !slices.Equal(query, want) {
		t.Errorf("ListTasks parameters %v, want %v", query, want)
	}

	// The page's items are the item definition, by reference.
	if got := at(t, def, "definitions", "TaskList", "properties", "value", "items"); !reflect.DeepEqual(got, map[string]any{"$ref": "#/definitions/Task"}) {
		t.Errorf("TaskList.value items = %v", got)
	}
}

func TestEveryFieldHasASummary(t *testing.T) {
	// x-ms-summary names every parameter, every success header and every
	// member, but for a member that is only a reference (its definition
	// has the text, and Swagger 2.0 ignores what stands beside $ref).
	def, _, _ := generated(t, api.Routes())
	for path, methods := range at(t, def, "paths").(map[string]any) {
		for method, o := range methods.(map[string]any) {
			for _, p := range at(t, o, "parameters").([]any) {
				if p.(map[string]any)["x-ms-summary"] == nil {
					t.Errorf("%s %s: parameter %v has no x-ms-summary", method, path, p)
				}
			}
			for status, r := range at(t, o, "responses").(map[string]any) {
				headers, _ := r.(map[string]any)["headers"].(map[string]any)
				for name, h := range headers {
					if status[0] == '2' && h.(map[string]any)["x-ms-summary"] == nil {
						t.Errorf("%s %s: %s header %s has no x-ms-summary", method, path, status, name)
					}
				}
			}
		}
	}
	for name, d := range at(t, def, "definitions").(map[string]any) {
		for member, p := range at(t, d, "properties").(map[string]any) {
			p := p.(map[string]any)
			if p["$ref"] == nil && p["x-ms-summary"] == nil {
				t.Errorf("%s.%s has no x-ms-summary", name, member)
			}
		}
	}
}

func TestHelloAndMeDoNotDependOnTasks(t *testing.T) {
	// Adding a resource route changes nothing of the other routes'
	// operations, definitions and requests; properties gain the paging
	// policy only when an action pages.
	all := api.Routes()
	alone := []api.Route{*route(t, all, "Hello"), *route(t, all, "Me")}
	def, props, col := generated(t, all)
	defAlone, propsAlone, colAlone := generated(t, alone)
	for _, path := range []string{"/Hello", "/Me"} {
		if !reflect.DeepEqual(at(t, def, "paths", path), at(t, defAlone, "paths", path)) {
			t.Errorf("%s differs with the Tasks route", path)
		}
	}
	for name, d := range at(t, defAlone, "definitions").(map[string]any) {
		if !reflect.DeepEqual(d, at(t, def, "definitions", name)) {
			t.Errorf("definition %s differs with the Tasks route", name)
		}
	}
	if _, ok := at(t, propsAlone, "properties").(map[string]any)["policyTemplateInstances"]; ok {
		t.Errorf("policyTemplateInstances without a pageable action")
	}
	if _, ok := at(t, props, "properties").(map[string]any)["policyTemplateInstances"]; !ok {
		t.Errorf("no policyTemplateInstances with ListTasks")
	}
	items := at(t, colAlone, "item").([]any)
	if len(items) != 2 || !reflect.DeepEqual(items, at(t, col, "item").([]any)[:2]) {
		t.Errorf("the Hello and Me requests differ with the Tasks route")
	}
}

// request is what TestCollectionWalksAResource reads of an item.
type request struct {
	name, call, ifMatch, status string
}

// requests lists col's items from the first one named first.
func requests(t *testing.T, col map[string]any, first string) []request {
	t.Helper()
	var out []request
	for _, it := range at(t, col, "item").([]any) {
		it := it.(map[string]any)
		if len(out) == 0 && it["name"] != first {
			continue
		}
		r := request{name: it["name"].(string)}
		r.call = at(t, it, "request", "method").(string) + " " + at(t, it, "request", "url", "raw").(string)
		for _, h := range at(t, it, "request", "header").([]any) {
			if h := h.(map[string]any); h["key"] == "If-Match" {
				r.ifMatch = h["value"].(string)
			}
		}
		script := strings.Join(func() (s []string) {
			for _, l := range at(t, it, "event", 0, "script", "exec").([]any) {
				s = append(s, l.(string))
			}
			return s
		}(), "\n")
		_, rest, _ := strings.Cut(script, "pm.response.to.have.status(")
		r.status, _, _ = strings.Cut(rest, ")")
		out = append(out, r)
	}
	return out
}

func TestCollectionWalksAResource(t *testing.T) {
	// A resource route is called through the life of one item, which the
	// create makes and the requests after it address by collection
	// variables; variables and steps follow from the actions.
	tasks := []request{
		{"Create a task", "POST {{baseUrl}}/api/tasks", "", "201"},
		{"List tasks", "GET {{baseUrl}}/api/tasks", "", "200"},
		{"Get a task", "GET {{baseUrl}}/api/tasks/{{tasksId}}", "", "200"},
		{"Update a task", "PATCH {{baseUrl}}/api/tasks/{{tasksId}}", "{{tasksETag}}", "200"},
		{"Update a task with an outdated ETag", "PATCH {{baseUrl}}/api/tasks/{{tasksId}}", "{{tasksStaleETag}}", "412"},
		{"Delete a task", "DELETE {{baseUrl}}/api/tasks/{{tasksId}}", "{{tasksETag}}", "204"},
		{"Get a task, once deleted", "GET {{baseUrl}}/api/tasks/{{tasksId}}", "", "404"},
	}
	// A resource of another name and parameter, without ETags, a list or
	// a 404: no conditional requests, no list check, no get once deleted.
	notes := func() api.Route {
		rt := *route(t, api.Routes(), "Tasks")
		rt.Function, rt.Template = "Notes", "notes/{key?}"
		var actions []api.Action
		for _, a := range rt.Actions {
			a.Path = strings.ReplaceAll(strings.ReplaceAll(a.Path, "/tasks", "/notes"), "{id}", "{key}")
			a.OperationID = strings.ReplaceAll(a.OperationID, "Task", "Note")
			a.Response.Headers = nil
			a.Errors = slices.DeleteFunc(slices.Clone(a.Errors), func(s int) bool { return s == http.StatusNotFound })
			var params []api.Param
			for _, p := range a.Params {
				if p.In == "path" {
					p.Name, p.Values = "key", nil
				}
				params = append(params, p)
			}
			a.Params = params
			actions = append(actions, a)
		}
		rt.Actions = actions
		obj := *rt.Actions[1].Response.Object
		obj.Name, obj.Fields = "Note", append(slices.Clone(obj.Fields), api.Field{Name: "key", Type: "string", Title: "Key", Description: "The note's key."})
		for i := range rt.Actions {
			if rt.Actions[i].Response.Object != nil && rt.Actions[i].Response.Object.Name == "Task" {
				rt.Actions[i].Response.Object = &obj
			}
		}
		rt.Actions[0].Response.NextLink = ""
		rt.Actions[0].Response.Object = &api.Object{Name: "NoteList", Description: "Notes.", Fields: []api.Field{
			{Name: "value", Type: "array", Items: "object", Object: &obj, Title: "Notes", Description: "The notes."}}}
		return rt
	}()
	for _, tc := range []struct {
		name   string
		routes []api.Route
		first  string
		want   []request
	}{
		{"Tasks", api.Routes(), "Create a task", tasks},
		{"a resource without ETags", []api.Route{notes}, "Create a task", []request{
			{"Create a task", "POST {{baseUrl}}/api/notes", "", "201"},
			{"List tasks", "GET {{baseUrl}}/api/notes", "", "200"},
			{"Get a task", "GET {{baseUrl}}/api/notes/{{notesKey}}", "", "200"},
			{"Update a task", "PATCH {{baseUrl}}/api/notes/{{notesKey}}", "", "200"},
			{"Delete a task", "DELETE {{baseUrl}}/api/notes/{{notesKey}}", "", "204"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, col := generated(t, tc.routes)
			if got := requests(t, col, tc.first); !slices.Equal(got, tc.want) {
				t.Errorf("requests:\n%v\nwant:\n%v", got, tc.want)
			}
		})
	}
}

func TestCollectionKeepsTheItem(t *testing.T) {
	// The scripts that carry the item: the create keeps its id and ETag
	// (and forgets an earlier run's), the list must hold it, the update
	// keeps the new ETag and the one it replaced.
	_, _, col := generated(t, api.Routes())
	scripts := map[string]string{}
	for _, it := range at(t, col, "item").([]any) {
		var lines []string
		for _, l := range at(t, it, "event", 0, "script", "exec").([]any) {
			lines = append(lines, l.(string))
		}
		scripts[it.(map[string]any)["name"].(string)] = strings.Join(lines, "\n")
	}
	for _, c := range []struct{ item, want string }{
		{"Create a task", `pm.collectionVariables.unset("tasksStaleETag");`},
		{"Create a task", "if (pm.response.code === 201) {\n" +
			`    pm.collectionVariables.set("tasksId", pm.response.json()["id"]);` + "\n" +
			`    pm.collectionVariables.set("tasksETag", pm.response.headers.get("ETag"));` + "\n} else {\n" +
			`    pm.collectionVariables.unset("tasksId");` + "\n" +
			`    pm.collectionVariables.unset("tasksETag");` + "\n}"},
		{"Create a task", `pm.response.to.have.header("Location");`},
		{"List tasks", `const listed = pm.response.json()["value"].map(function (v) { return v["id"]; });`},
		{"List tasks", `pm.expect(listed).to.include(pm.collectionVariables.get("tasksId"));`},
		{"List tasks", `body["value"].forEach(function (e1) {`},
		{"List tasks", `        pm.expect(e1).to.have.property("owner");`},
		{"Get a task", `pm.expect(pm.response.headers.get("ETag")).to.eql(pm.collectionVariables.get("tasksETag"));`},
		{"Get a task", `pm.expect(pm.response.json()["id"]).to.eql(pm.collectionVariables.get("tasksId"));`},
		{"Update a task", `pm.expect(pm.response.headers.get("ETag")).to.not.eql(pm.collectionVariables.get("tasksETag"));`},
		{"Update a task", "if (pm.response.code === 200) {\n" +
			`    pm.collectionVariables.set("tasksStaleETag", pm.collectionVariables.get("tasksETag"));` + "\n" +
			`    pm.collectionVariables.set("tasksETag", pm.response.headers.get("ETag"));` + "\n}"},
		{"Update a task with an outdated ETag", `pm.test("body is a Problem", function () {`},
		{"Delete a task", `pm.expect(pm.response.text()).to.eql("");`},
		{"Get a task, once deleted", `pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");`},
	} {
		if !strings.Contains(scripts[c.item], c.want) {
			t.Errorf("%s: the script lacks\n%s\nin:\n%s", c.item, c.want, scripts[c.item])
		}
	}
}

func TestGenerateRefusesBrokenResources(t *testing.T) {
	// Each mistake in a resource route's actions that would break the
	// definition or the collection is refused, and named.
	tests := []struct {
		name   string
		break_ func(t *testing.T, rt *api.Route)
		want   string
	}{
		{"a 204 with a body", func(t *testing.T, rt *api.Route) {
			action(t, rt, "DeleteTask").Response.Object = action(t, rt, "GetTask").Response.Object
		}, "DeleteTask: a 204 response has no body"},
		{"a redirect for success", func(t *testing.T, rt *api.Route) {
			action(t, rt, "CreateTask").Response.Status = http.StatusFound
		}, "the success status 302 is not 200, 201, 202 or 204"},
		{"a next link that is not a member", func(t *testing.T, rt *api.Route) {
			action(t, rt, "ListTasks").Response.NextLink = "nextLink"
		}, `ListTasks: the next link "nextLink" is not a string member`},
		{"a header without a title", func(t *testing.T, rt *api.Route) {
			action(t, rt, "CreateTask").Response.Headers = []api.Field{{Name: "ETag", Type: "string", Description: "The version."}}
		}, `CreateTask: response header "ETag" needs`},
		{"an object parameter", func(t *testing.T, rt *api.Route) {
			action(t, rt, "ListTasks").Params[0].Type = "object"
		}, `parameter "done" has type "object"`},
		{"a required internal parameter", func(t *testing.T, rt *api.Route) {
			action(t, rt, "ListTasks").Params[2].Required = true
		}, `parameter "$top" is required and internal`},
		{"a path parameter missing", func(t *testing.T, rt *api.Route) {
			a := action(t, rt, "GetTask")
			a.Params = nil
		}, "GetTask: path parameters [], but the path /api/tasks/{id} has [id]"},
		{"values from no action", func(t *testing.T, rt *api.Route) {
			action(t, rt, "GetTask").Params[0].Values = &api.DynamicValues{OperationID: "ListThings", Collection: "value", Value: "id", Title: "title"}
		}, "takes its values from ListThings, but there is no such action"},
		{"values from no collection", func(t *testing.T, rt *api.Route) {
			action(t, rt, "GetTask").Params[0].Values = &api.DynamicValues{OperationID: "ListTasks", Collection: "items", Value: "id", Title: "title"}
		}, `its response has no member "items" that is an array of objects`},
		{"values titled by no member", func(t *testing.T, rt *api.Route) {
			action(t, rt, "GetTask").Params[0].Values = &api.DynamicValues{OperationID: "ListTasks", Collection: "value", Value: "id", Title: "name"}
		}, `Task has no member "name"`},
		{"values from an action with a required parameter", func(t *testing.T, rt *api.Route) {
			action(t, rt, "GetTask").Params[0].Values = &api.DynamicValues{OperationID: "GetTask", Collection: "value", Value: "id", Title: "title"}
		}, "it has required parameters"},
		{"two objects of one name", func(t *testing.T, rt *api.Route) {
			o := *action(t, rt, "GetTask").Response.Object
			o.Description = "Another task."
			action(t, rt, "GetTask").Response.Object = &o
		}, "two different objects are named Task"},
		{"an object member without its object", func(t *testing.T, rt *api.Route) {
			o := action(t, rt, "ListTasks").Response.Object
			o.Fields[0].Object = nil
		}, "TaskList.value: an Object describes"},
		{"an object that holds itself", func(t *testing.T, rt *api.Route) {
			o := action(t, rt, "GetTask").Response.Object
			o.Fields = append(o.Fields, api.Field{Name: "parent", Type: "object", Object: o, Title: "Parent", Description: "The parent."})
		}, "Task holds itself"},
		{"no create", func(t *testing.T, rt *api.Route) {
			rt.Actions = slices.DeleteFunc(rt.Actions, func(a api.Action) bool { return a.OperationID == "CreateTask" })
		}, "route Tasks: its actions take the path parameter id, so the collection needs an action that creates an item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := api.Routes()
			tt.break_(t, route(t, routes, "Tasks"))
			_, err := Generate(goldenConfig, routes)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant ErrInvalidConfig with %q", err, tt.want)
			}
		})
	}
}

func TestNestedObjectIsAReference(t *testing.T) {
	// A member that is an object refers to its definition, alone (Spectral
	// refuses $ref siblings), and the definition is written.
	routes := api.Routes()
	get := action(t, route(t, routes, "Tasks"), "GetTask")
	task := *get.Response.Object
	task.Name = "TaskWithParent"
	parent := &api.Object{Name: "Parent", Description: "A parent.", Fields: []api.Field{{Name: "id", Type: "string", Title: "ID", Description: "Its ID."}}}
	task.Fields = append(slices.Clone(task.Fields), api.Field{Name: "parent", Type: "object", Object: parent, Title: "Parent", Description: "The parent."})
	get.Response.Object = &task
	def, _, _ := generated(t, routes)
	if got := at(t, def, "definitions", "TaskWithParent", "properties", "parent"); !reflect.DeepEqual(got, map[string]any{"$ref": "#/definitions/Parent"}) {
		t.Errorf("parent = %v", got)
	}
	if got := at(t, def, "definitions", "Parent", "properties", "id", "x-ms-summary"); got != "ID" {
		t.Errorf("Parent.id x-ms-summary = %v", got)
	}
}
