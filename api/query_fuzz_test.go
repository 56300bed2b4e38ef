package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzHelloQuery feeds Hello's query-string decoder, queryName, raw query
// strings, alone and through the whole handler. Where net/url can read a
// query, queryName must agree with it on whether a name was given and on
// its values (a key spelled "name" in any letter case, as ASP.NET's query
// collection matches; repeated values joined with commas). Through the
// handler the answer is Hello's text for that name, or a 400 problem when
// the query smuggles an access_token: never anything else.
func FuzzHelloQuery(f *testing.F) {
	for _, s := range []string{
		"name=Marc", "NAME=Marc", "nAmE=Marc", "n%61me=Marc", "%6E%61%6D%65=Marc", "name=a&name=b", "name=a&Name=b,c",
		"name=", "name", "name=a%20b+c", "name=%zz", "name=%", "x=1&name=y&z", ";name=x", "name=x;y",
		"name=%C3%A9", "name=\xff", "name=%00", "names=x", "nam=x", "&&&", "=", "",
		"name=Marc&access_token=x", "access%5Ftoken=1",
	} {
		f.Add(s)
	}
	fx := newFixture(f, nil)
	f.Fuzz(func(t *testing.T, query string) {
		got, found := queryName(query)
		if v, err := url.ParseQuery(query); err == nil {
			var want []string
			matched := false
			for k, vs := range v {
				if strings.EqualFold(k, "name") {
					matched = true
					want = append(want, vs...)
				}
			}
			if found != matched {
				t.Fatalf("query %q: queryName found a name: %v; net/url: %v", query, found, matched)
			}
			// net/url's map loses the order of differently cased keys:
			// compare the comma-separated pieces as sets.
			gotPieces := strings.Split(got, ",")
			wantPieces := strings.Split(strings.Join(want, ","), ",")
			slices.Sort(gotPieces)
			slices.Sort(wantPieces)
			if found && !slices.Equal(gotPieces, wantPieces) {
				t.Fatalf("query %q: name %q, net/url's values %q", query, got, want)
			}
		}

		r := httptest.NewRequest(http.MethodGet, "/api/Hello", nil)
		r.URL.RawQuery = query
		r.Header.Set("Authorization", "Bearer "+goodToken)
		w := httptest.NewRecorder()
		fx.h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
			want := helloAnonymousT
			if got != "" {
				want = hello(got)
			}
			if w.Body.String() != want {
				t.Fatalf("query %q: %q, want %q", query, w.Body.String(), want)
			}
		case http.StatusBadRequest:
			if p := checkProblem(t, w, http.StatusBadRequest); !strings.Contains(p.Detail, "access token") {
				t.Fatalf("query %q: 400 %+v, want only for a smuggled access_token", query, p)
			}
		default:
			t.Fatalf("query %q: status %d: %s", query, w.Code, w.Body.String())
		}
		fx.logs.Reset()
	})
}
