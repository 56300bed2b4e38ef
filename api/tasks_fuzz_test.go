package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzTaskBody sends any body to create and update: the answer is 201 or
// 200 with a task whose members are the ones the body set, or a 4xx
// problem; never a 500, and never a task owned by anyone but the caller.
func FuzzTaskBody(f *testing.F) {
	for _, s := range []string{
		`{"title":"x"}`, `{"title":"x","notes":null,"due":null}`, `{"title":"x","owner":"y"}`,
		`{"title":"x","title":"y"}`, `{"Title":"x"}`, `{"title":"a\u0000b"}`, `{"due":"2024-02-29"}`,
		`{"done":true}`, `{"done":"true"}`, `{}`, `[]`, `null`, `{"title":"x"}{}`, "{\"title\":\"\xff\"}",
		`{"title":"x","notes":"` + strings.Repeat("n", 4001) + `"}`, `{"__proto__":{}}`, `{"title":{"$ne":1}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fx := newTasksFixture(t)
		for _, method := range []string{http.MethodPost, http.MethodPatch} {
			target := "/api/tasks"
			if method == http.MethodPatch {
				made, _ := createTask(t, fx, "tok-A", `{"title":"fuzz"}`)
				target += "/" + made.ID
			}
			w := fx.do(t, jsonReq(method, target, "tok-A", body))
			switch {
			case w.Code == http.StatusCreated || w.Code == http.StatusOK:
				var got taskJSON
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Owner != oidA || got.ID == "" {
					t.Fatalf("%s %q: %d %s", method, body, w.Code, w.Body)
				}
			case w.Code >= 400 && w.Code < 500:
				checkProblem(t, w, w.Code)
			default:
				t.Fatalf("%s %q: %d %s", method, body, w.Code, w.Body)
			}
		}
	})
}

// FuzzTaskQuery sends any query string to the list and any If-Match to
// an update: 200, or a 4xx problem; never a 500.
func FuzzTaskQuery(f *testing.F) {
	for _, s := range [][2]string{
		{"$top=5", `"abc"`}, {"$top=0", "*"}, {"done=maybe", `W/"x"`}, {"owner=' or 1 eq 1", `"a", "b"`},
		{"$skiptoken=AAAA", `"`}, {"$top=1&$top=2", "*, \"a\""}, {"%zz", "\"a\"\x00"}, {"$filter=x", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, query, ifMatch string) {
		fx := newTasksFixture(t)
		w := fx.do(t, req{method: http.MethodGet, target: "/api/tasks?" + url.PathEscape(query), token: "tok-A"})
		if w.Code != http.StatusOK {
			checkProblem(t, w, w.Code)
			if w.Code >= 500 {
				t.Fatalf("list ?%q: %d %s", query, w.Code, w.Body)
			}
		}
		made, _ := createTask(t, fx, "tok-A", `{"title":"fuzz"}`)
		q := jsonReq(http.MethodPatch, "/api/tasks/"+made.ID, "tok-A", `{"done":true}`)
		if strings.ContainsAny(ifMatch, "\r\n\x00") {
			return // not a header value net/http would send
		}
		q.headers = http.Header{"If-Match": {ifMatch}}
		w = fx.do(t, q)
		if w.Code != http.StatusOK && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("If-Match %q: %d %s", ifMatch, w.Code, w.Body)
		}
	})
}
