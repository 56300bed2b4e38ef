package connector

import (
	"encoding/json"
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
		a := rt.Action
		path := strings.Split(strings.TrimPrefix(rt.Path(), "/"), "/")
		req := postmanRequest{
			Method:      a.Method,
			Header:      []postmanKey{{Key: "Accept", Value: a.Response.ContentType}},
			URL:         postmanURL{Raw: "{{" + baseURLVar + "}}" + rt.Path(), Host: []string{"{{" + baseURLVar + "}}"}, Path: path},
			Description: a.Description,
		}
		if a.Example.Body != "" {
			req.Header = append(req.Header, postmanKey{Key: "Content-Type", Value: "application/json"})
			b := &postmanBody{Mode: "raw", Raw: a.Example.Body}
			b.Options.Raw.Language = "json"
			req.Body = b
		}
		col.Item = append(col.Item, postmanItem{
			Name:    a.Summary,
			Event:   []postmanEvent{{Listen: "test", Script: postmanScript{Type: "text/javascript", Exec: tests(a)}}},
			Request: req,
		})
	}
	return col
}

// tests are the assertions on one action's answer: status and content
// type always; the exact text for a text example; for an object, every
// member's presence (when required), type and closed values, and no
// member the definition does not declare.
func tests(a api.Action) []string {
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	t := []string{
		`pm.test("status is 200", function () {`,
		`    pm.response.to.have.status(200);`,
		`});`,
		`pm.test("content type is ` + a.Response.ContentType + `", function () {`,
		`    pm.expect(pm.response.headers.get("Content-Type")).to.include(` + js(a.Response.ContentType) + `);`,
		`});`,
	}
	if a.Example.Text != "" {
		t = append(t,
			`pm.test("answers the example's text", function () {`,
			`    pm.expect(pm.response.text()).to.eql(`+js(a.Example.Text)+`);`,
			`});`,
		)
	}
	o := a.Response.Object
	if o == nil {
		return t
	}
	var names []string
	t = append(t, `pm.test("body is a `+o.Name+`", function () {`,
		`    const body = pm.response.json();`,
		`    pm.expect(body).to.be.an("object");`)
	for _, f := range o.Fields {
		names = append(names, f.Name)
		field := "body[" + js(f.Name) + "]"
		if f.Required {
			t = append(t, `    pm.expect(body).to.have.property(`+js(f.Name)+`);`)
		}
		check := []string{`pm.expect(` + field + `).to.be.a(` + js(chaiType(f.Type)) + `);`}
		if f.Type == "array" {
			check = append(check, field+`.forEach(function (v) { pm.expect(v).to.be.a(`+js(chaiType(f.Items))+`); });`)
		}
		if len(f.Enum) > 0 {
			check = append(check, `pm.expect(`+js(f.Enum)+`).to.include(`+field+`);`)
		}
		if f.Required {
			for _, c := range check {
				t = append(t, "    "+c)
			}
			continue
		}
		t = append(t, `    if (`+js(f.Name)+` in body) {`)
		for _, c := range check {
			t = append(t, "        "+c)
		}
		t = append(t, `    }`)
	}
	t = append(t,
		`    const declared = `+js(names)+`;`,
		`    Object.keys(body).forEach(function (k) { pm.expect(declared, "member " + k + " is not in the definition").to.include(k); });`,
		`});`)
	return t
}

// chaiType is the name chai's a() uses for a JSON Schema type.
func chaiType(t string) string {
	switch t {
	case "integer":
		return "number"
	}
	return t
}
