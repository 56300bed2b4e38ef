package connector

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/entrafunc/entrafunc/api"
)

// checkAction refuses a route whose actions the definition cannot carry.
// api's tests hold the text rules; this catches what would break the
// output itself.
func checkAction(rt api.Route) []error {
	var errs []error
	bad := func(format string, v ...any) {
		errs = append(errs, invalid("route "+rt.Function+": "+fmt.Sprintf(format, v...)))
	}
	if len(rt.Actions) == 0 {
		bad("no connector action (OperationID, Summary and Description are required)")
	}
	for _, a := range rt.Actions {
		if a.OperationID == "" || a.Summary == "" || a.Description == "" {
			bad("no connector action (OperationID, Summary and Description are required)")
		}
		if !slices.Contains(rt.Methods, a.Method) {
			bad("action method %q is not served", a.Method)
		}
		path := rt.PathOf(a)
		if !slices.Contains(rt.Paths(), path) {
			bad("action path %q is not served", a.Path)
		}
		r := a.Response
		switch r.Status {
		case 0, http.StatusOK, http.StatusCreated, http.StatusAccepted:
			if (r.Text == nil) == (r.Object == nil) {
				bad("%s: the response must be text or an object", a.OperationID)
			}
		case http.StatusNoContent:
			if r.Text != nil || r.Object != nil || r.ContentType != "" {
				bad("%s: a 204 response has no body", a.OperationID)
			}
		default:
			bad("%s: the success status %d is not 200, 201, 202 or 204", a.OperationID, r.Status)
		}
		if r.NextLink != "" && (r.Object == nil || !slices.ContainsFunc(r.Object.Fields, func(f api.Field) bool { return f.Name == r.NextLink && f.Type == "string" })) {
			bad("%s: the next link %q is not a string member of the response", a.OperationID, r.NextLink)
		}
		for _, h := range r.Headers {
			if h.Name == "" || h.Title == "" || h.Description == "" || !primitive(h.Type) {
				bad("%s: response header %q needs a Name, Title, Description and a string, integer, number or boolean Type", a.OperationID, h.Name)
			}
		}
		var inPath []string
		for seg := range strings.SplitSeq(path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				inPath = append(inPath, strings.TrimSuffix(name, "}"))
			}
		}
		var declared []string
		for _, p := range a.Params {
			switch p.In {
			case "path":
				declared = append(declared, p.Name)
				if !p.Required {
					bad("%s: path parameter %q is not required", a.OperationID, p.Name)
				}
			case "query", "header":
			default:
				bad("%s: parameter %q is in %q, not path, query or header", a.OperationID, p.Name, p.In)
			}
			if p.Name == "" || p.Title == "" || p.Description == "" {
				bad("%s: parameter %q has no Name, Title or Description", a.OperationID, p.Name)
			}
			if !primitive(p.Type) && !(p.Type == "array" && primitive(p.Items)) {
				bad("%s: parameter %q has type %q: a path, query or header parameter is a string, integer, number, boolean or an array of them", a.OperationID, p.Name, p.Type)
			}
			// A hidden parameter that must be given needs a default,
			// which Param has no room for.
			if p.Required && p.Visibility == api.VisibilityInternal {
				bad("%s: parameter %q is required and internal, so makers could never give it", a.OperationID, p.Name)
			}
		}
		if !slices.Equal(inPath, declared) {
			bad("%s: path parameters %v, but the path %s has %v", a.OperationID, declared, path, inPath)
		}
		for _, o := range []*api.Object{a.Body, r.Object} {
			if o != nil {
				errs = append(errs, checkObject(rt.Function, o, nil)...)
			}
		}
	}
	return errs
}

// primitive reports whether t is a JSON Schema type a header or a
// non-body parameter may have on its own.
func primitive(t string) bool {
	return t == "string" || t == "integer" || t == "number" || t == "boolean"
}

// checkObject refuses a field without its text, and a field whose type
// and Object disagree, in o and the objects it holds. seen stops a cycle.
func checkObject(function string, o *api.Object, seen []*api.Object) []error {
	if slices.Contains(seen, o) {
		return []error{invalid(fmt.Sprintf("route %s: %s holds itself", function, o.Name))}
	}
	seen = append(seen, o)
	var errs []error
	bad := func(format string, v ...any) {
		errs = append(errs, invalid("route "+function+": "+fmt.Sprintf(format, v...)))
	}
	if o.Name == "" {
		bad("an object has no Name")
	}
	for _, f := range o.Fields {
		if f.Description == "" || f.Title == "" {
			bad("%s.%s has no Title or Description", o.Name, f.Name)
		}
		nested := f.Type == "object" || f.Type == "array" && f.Items == "object"
		if nested != (f.Object != nil) {
			bad("%s.%s: an Object describes a member of type object, or the elements of an array of objects, and nothing else", o.Name, f.Name)
		}
		if f.Object != nil {
			errs = append(errs, checkObject(function, f.Object, seen)...)
		}
	}
	return errs
}

// objects calls fn on every object the routes' actions send or answer,
// and on those they hold, each time it appears.
func objects(routes []api.Route, fn func(function string, o *api.Object)) {
	var walk func(function string, o *api.Object, depth int)
	walk = func(function string, o *api.Object, depth int) {
		// checkObject refuses a cycle; this only must not loop on one.
		if o == nil || depth > 32 {
			return
		}
		fn(function, o)
		for _, f := range o.Fields {
			walk(function, f.Object, depth+1)
		}
	}
	for _, rt := range routes {
		for _, a := range rt.Actions {
			walk(rt.Function, a.Body, 0)
			walk(rt.Function, a.Response.Object, 0)
		}
	}
}

// checkDefinitions refuses two different objects of the same name: each
// object is one definition, which every reference to it shares.
func checkDefinitions(routes []api.Route) []error {
	var errs []error
	problem := api.ProblemObject()
	seen := map[string]*schema{problem.Name: objectSchema(problem)}
	objects(routes, func(function string, o *api.Object) {
		s := objectSchema(o)
		if prev, ok := seen[o.Name]; ok && !reflect.DeepEqual(prev, s) {
			errs = append(errs, invalid(fmt.Sprintf("route %s: two different objects are named %s; each name is one definition", function, o.Name)))
			return
		}
		seen[o.Name] = s
	})
	return errs
}

// checkDynamicValues refuses a parameter whose values come from an
// action that does not list them: the action must exist, take no
// required parameter, and answer an object whose Collection member is an
// array of objects with the Value and Title members.
func checkDynamicValues(routes []api.Route) []error {
	var errs []error
	actions := api.Actions(routes)
	for _, a := range actions {
		for _, p := range a.Params {
			v := p.Values
			if v == nil {
				continue
			}
			bad := func(format string, args ...any) {
				errs = append(errs, invalid(fmt.Sprintf("%s: parameter %q takes its values from %s, but ", a.OperationID, p.Name, v.OperationID)+fmt.Sprintf(format, args...)))
			}
			i := slices.IndexFunc(actions, func(l api.Action) bool { return l.OperationID == v.OperationID })
			if i < 0 {
				bad("there is no such action")
				continue
			}
			list := actions[i]
			if slices.ContainsFunc(list.Params, func(lp api.Param) bool { return lp.Required }) {
				bad("it has required parameters")
			}
			elem := collectionOf(list, v.Collection)
			if elem == nil {
				bad("its response has no member %q that is an array of objects", v.Collection)
				continue
			}
			for _, m := range []string{v.Value, v.Title} {
				if !slices.ContainsFunc(elem.Fields, func(f api.Field) bool { return f.Name == m && primitive(f.Type) }) {
					bad("%s has no member %q", elem.Name, m)
				}
			}
		}
	}
	return errs
}

// collectionOf returns the element object of a's response member name,
// or nil when that member is not an array of objects.
func collectionOf(a api.Action, name string) *api.Object {
	if a.Response.Object == nil {
		return nil
	}
	for _, f := range a.Response.Object.Fields {
		if f.Name == name && f.Type == "array" && f.Items == "object" {
			return f.Object
		}
	}
	return nil
}
