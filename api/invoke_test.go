package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// capturedPayload is the host's payload for a GET with no credentials, as
// captured from host 4.33.2 under func start (the request payload of functions-custom-handlers on learn.microsoft.com), renamed
// to the Hello function. Headers are arrays; Query is an object; there is
// no Body; Identities hold one unauthenticated identity.
const capturedPayload = `{"Data":{"req":{"Url":"http://localhost:7071/api/Hello","Method":"GET","Query":{},
"Headers":{"Accept":["*/*"],"Connection":["keep-alive"],"Host":["localhost:7071"],"User-Agent":["PostmanRuntime/7.37.3"],"Accept-Encoding":["gzip, deflate, br"],"Cache-Control":["no-cache"],"Postman-Token":["f7cc0000-0000-0000-0000-000000000000"]},
"Params":{},
"Identities":[{"AuthenticationType":null,"IsAuthenticated":false,"Actor":null,"BootstrapContext":null,"Claims":[],"Label":null,"Name":null,
"NameClaimType":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name","RoleClaimType":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}]}},
"Metadata":{"Query":{},"Headers":{"Accept":"*/*","Connection":"keep-alive","Host":"localhost:7071"},
"sys":{"MethodName":"Hello","UtcNow":"2024-05-14T15:14:15.128919Z","RandGuid":"7a85f722-0000-0000-0000-000000000000"}}}`

// hostPayload builds a payload the way the host does for an HTTP trigger
// named req.
func hostPayload(t *testing.T, method, url string, headers map[string][]string, query map[string]string, body *string) string {
	t.Helper()
	if query == nil {
		query = map[string]string{}
	}
	flat := map[string]string{}
	for k, vs := range headers {
		flat[k] = vs[0]
	}
	req := map[string]any{"Url": url, "Method": method, "Query": query, "Headers": headers, "Params": map[string]string{}, "Identities": []any{}}
	if body != nil {
		req["Body"] = *body
	}
	b, err := json.Marshal(map[string]any{
		"Data":     map[string]any{"req": req},
		"Metadata": map[string]any{"Query": query, "Headers": flat, "sys": map[string]string{"MethodName": "Hello", "UtcNow": "2026-11-26T00:00:00Z", "RandGuid": "00000000-0000-0000-0000-000000000000"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func strp(s string) *string { return &s }

type invokeResult struct {
	Outputs map[string]struct {
		StatusCode string            `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	Logs        []string
	ReturnValue any
}

// invoke posts a payload as the host does and decodes the answer, which
// must be a 200 with Outputs.res.
func invoke(t *testing.T, f *fixture, path, payload string) (status string, headers map[string]string, body string) {
	t.Helper()
	w := f.do(t, req{method: http.MethodPost, target: path, body: strings.NewReader(payload), ctype: "application/json; charset=utf-8",
		headers: http.Header{"X-Azure-Functions-Invocationid": {invocationID}, "X-Azure-Functions-Hostversion": {"4.1036.1.1"}}})
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("invocation answered %d %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	var res invokeResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatalf("invocation result is not JSON: %v: %s", err, w.Body.String())
	}
	out, ok := res.Outputs["res"]
	if !ok || res.Logs == nil || res.ReturnValue != nil || !strings.Contains(w.Body.String(), `"ReturnValue":null`) {
		t.Fatalf("result lacks Outputs.res, Logs or a null ReturnValue: %s", w.Body.String())
	}
	if out.Headers["Content-Type"] == "" {
		t.Errorf("Outputs.res has no Content-Type (the host fails without one): %s", w.Body.String())
	}
	return out.StatusCode, out.Headers, out.Body
}

func TestInvokeCapturedPayload(t *testing.T) {
	f := newFixture(t, nil)
	status, headers, body := invoke(t, f, "/Hello", capturedPayload)
	if status != "401" || headers["Www-Authenticate"] != `Bearer realm="api"` || headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("no credentials inside the payload: %s %v %s", status, headers, body)
	}
	// Its answer with a token, as the host would send it.
	withToken := strings.Replace(capturedPayload, `"Accept":["*/*"],`, `"Accept":["*/*"],"Authorization":["Bearer `+goodToken+`"],`, 1)
	status, headers, body = invoke(t, f, "/Hello", withToken)
	if status != "200" || body != helloAnonymousT || headers["Content-Type"] != "text/plain; charset=utf-8" {
		t.Fatalf("captured payload with a token: %s %v %q", status, headers, body)
	}
}

func TestInvokeHelloContract(t *testing.T) {
	auth := map[string][]string{"Authorization": {"Bearer " + goodToken}}
	jsonAuth := map[string][]string{"Authorization": {"Bearer " + goodToken}, "Content-Type": {"application/json"}}
	cases := []struct {
		name    string
		path    string
		payload string
		status  string
		body    string // exact, when set
		header  map[string]string
	}{
		{"the tutorial's request", "/Hello", hostPayload(t, "POST", "http://localhost:7071/api/Hello", jsonAuth, nil, strp(`{"name": "Marc"}`)), "200", hello("Marc"), nil},
		{"the function name in any case", "/hello", hostPayload(t, "POST", "http://localhost:7071/api/hello", jsonAuth, nil, strp(`{"name": "Marc"}`)), "200", hello("Marc"), nil},
		{"name in the URL's query", "/Hello", hostPayload(t, "GET", "http://localhost:7071/api/Hello?name=Marc", auth, map[string]string{"name": "Marc"}, nil), "200", hello("Marc"), nil},
		{"repeated keys kept apart by the URL", "/Hello", hostPayload(t, "GET", "https://app.azurewebsites.net/api/Hello?name=a&name=b", auth, map[string]string{"name": "a,b"}, nil), "200", hello("a,b"), nil},
		{"Query alone when the URL has none", "/Hello", hostPayload(t, "GET", "http://localhost:7071/api/Hello", auth, map[string]string{"name": "Marc"}, nil), "200", hello("Marc"), nil},
		{"header names in any case", "/Hello", hostPayload(t, "GET", "http://localhost:7071/api/Hello?name=Marc", map[string][]string{"authorization": {"Bearer " + goodToken}}, nil, nil), "200", hello("Marc"), nil},
		{"no name", "/Hello", hostPayload(t, "GET", "http://localhost:7071/api/Hello", auth, nil, nil), "200", helloAnonymousT, nil},
		{"no credentials", "/Hello", hostPayload(t, "POST", "http://localhost:7071/api/Hello", nil, nil, strp(`{"name": "Marc"}`)), "401", "", map[string]string{"Www-Authenticate": `Bearer realm="api"`}},
		{"insufficient scope", "/Hello", hostPayload(t, "GET", "http://localhost:7071/api/Hello", map[string][]string{"Authorization": {"Bearer " + noScopeToken}}, nil, nil), "403", "",
			map[string]string{"Www-Authenticate": `Bearer realm="api", error="insufficient_scope", scope="user_impersonation"`}},
		{"invalid token", "/Hello", hostPayload(t, "GET", "http://localhost:7071/api/Hello", map[string][]string{"Authorization": {"Bearer " + badToken}}, nil, nil), "401", "",
			map[string]string{"Www-Authenticate": `Bearer realm="api", error="invalid_token", error_description="The access token is not valid"`}},
		{"malformed JSON body", "/Hello", hostPayload(t, "POST", "http://localhost:7071/api/Hello", jsonAuth, nil, strp(`{"name": `)), "400", "", map[string]string{"Content-Type": "application/problem+json"}},
		{"name not a string", "/Hello", hostPayload(t, "POST", "http://localhost:7071/api/Hello", jsonAuth, nil, strp(`{"name": 1}`)), "400", "", nil},
		{"body over 64 KiB", "/Hello", hostPayload(t, "POST", "http://localhost:7071/api/Hello", jsonAuth, nil, strp(`{"name": "`+strings.Repeat("x", 70<<10)+`"}`)), "413", "", nil},
		{"another method", "/Hello", hostPayload(t, "DELETE", "http://localhost:7071/api/Hello", auth, nil, nil), "405", "", map[string]string{"Allow": "GET, POST"}},
		{"Me is GET only", "/Me", hostPayload(t, "POST", "http://localhost:7071/api/Me", auth, nil, nil), "405", "", map[string]string{"Allow": "GET"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			status, headers, body := invoke(t, f, c.path, c.payload)
			if status != c.status {
				t.Fatalf("statusCode %s, want %s: %s", status, c.status, body)
			}
			if c.body != "" && body != c.body {
				t.Errorf("body %q, want %q", body, c.body)
			}
			for k, v := range c.header {
				if headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, headers[k], v)
				}
			}
			if c.status >= "400" {
				var pb problemBody
				if err := json.Unmarshal([]byte(body), &pb); err != nil || pb.Status == 0 || pb.Detail == "" {
					t.Errorf("error body is not a problem document: %s", body)
				}
			}
			lines := f.logLines(t)
			if len(lines) != 1 {
				t.Fatalf("%d log lines for one invocation, want 1", len(lines))
			}
			if fmt.Sprint(lines[0]["res_status"]) != c.status {
				t.Errorf("log line res_status %v, want %s", lines[0]["res_status"], c.status)
			}
			if strings.Contains(f.logs.String(), goodToken) {
				t.Error("the log holds the token")
			}
		})
	}
}

func TestInvokeMeCarriesThePrincipal(t *testing.T) {
	f := newFixture(t, nil)
	status, _, body := invoke(t, f, "/Me", hostPayload(t, "GET", "http://localhost:7071/api/Me", map[string][]string{"Authorization": {"Bearer " + goodToken}}, nil, nil))
	var me map[string]any
	if err := json.Unmarshal([]byte(body), &me); err != nil || status != "200" {
		t.Fatalf("%s %s", status, body)
	}
	if me["oid"] != goodOID || me["tid"] != goodTID {
		t.Errorf("Me = %v", me)
	}
}

func TestInvokeMalformedPayloads(t *testing.T) {
	good := hostPayload(t, "GET", "http://localhost:7071/api/Hello", map[string][]string{"Authorization": {"Bearer " + goodToken}}, nil, nil)
	cases := []struct {
		name    string
		payload string
		status  int
	}{
		{"not JSON", `{"Data":`, 400},
		{"a JSON array", `[]`, 400},
		{"no Data", `{"Metadata":{}}`, 400},
		{"Data without req", `{"Data":{"other":{}}}`, 400},
		{"req not an object", `{"Data":{"req":"GET /"}}`, 400},
		{"Headers not arrays", strings.Replace(good, `"Authorization":["Bearer `+goodToken+`"]`, `"Authorization":"Bearer `+goodToken+`"`, 1), 400},
		{"no Method", strings.Replace(good, `"Method":"GET"`, `"Method":""`, 1), 400},
		{"a Method that is no method", strings.Replace(good, `"Method":"GET"`, `"Method":"G E T"`, 1), 400},
		{"a relative Url", strings.Replace(good, `"Url":"http://localhost:7071/api/Hello"`, `"Url":"/api/Hello"`, 1), 400},
		{"Body not a string", strings.Replace(good, `"Headers"`, `"Body":{"name":"Marc"},"Headers"`, 1), 400},
		{"Query not an object of strings", strings.Replace(good, `"Query":{}`, `"Query":{"name":1}`, 1), 400},
		{"trailing data", good + `}`, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.do(t, req{method: http.MethodPost, target: "/Hello", body: strings.NewReader(c.payload), ctype: "application/json"})
			checkProblem(t, w, c.status)
		})
	}
	t.Run("an envelope too large answers 413 inside the payload", func(t *testing.T) {
		f := newFixture(t, nil)
		status, _, body := invoke(t, f, "/Hello", `{"Data":{"req":{"Body":"`+strings.Repeat("x", 700<<10)+`"}}}`)
		if status != "413" || !strings.Contains(body, `"status":413`) {
			t.Fatalf("%s %s", status, body)
		}
	})
	for _, h := range []string{"Authorization", "X-MS-CLIENT-PRINCIPAL", "X-ARR-LOG-ID", "X-Forwarded-For", "Cookie"} {
		t.Run("a client request carrying "+h+" is refused", func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.do(t, req{method: http.MethodPost, target: "/Hello", body: strings.NewReader(good), ctype: "application/json", headers: http.Header{h: {"x"}}})
			pb := checkProblem(t, w, http.StatusBadRequest)
			if !strings.Contains(pb.Detail, "invocation endpoint") {
				t.Errorf("detail %q", pb.Detail)
			}
		})
	}
	t.Run("the documentation's Query as a string", func(t *testing.T) {
		f := newFixture(t, nil)
		p := strings.Replace(good, `"Query":{}`, `"Query":"{\"name\":\"Marc\"}"`, 1)
		if status, _, body := invoke(t, f, "/Hello", p); status != "200" || body != hello("Marc") {
			t.Fatalf("%s %q", status, body)
		}
	})
	t.Run("a binary body in base64", func(t *testing.T) {
		f := newFixture(t, nil)
		p := hostPayload(t, "POST", "http://localhost:7071/api/Hello", map[string][]string{"Authorization": {"Bearer " + goodToken}, "Content-Type": {"application/octet-stream"}}, nil, strp("eyJuYW1lIjogIk1hcmMifQ=="))
		if status, _, body := invoke(t, f, "/Hello", p); status != "200" || body != hello("Marc") {
			t.Fatalf("%s %q", status, body)
		}
	})
}

// FuzzInvoke posts arbitrary payloads: the answer is 200 with Outputs.res
// for a well-formed invocation, 400 or 413 otherwise, and never a 5xx.
func FuzzInvoke(f *testing.F) {
	f.Add(capturedPayload)
	f.Add(`{"Data":{"req":{"Url":"http://h/api/Hello?name=x","Method":"POST","Headers":{"Authorization":["Bearer ` + goodToken + `"]},"Body":"{\"name\":1}"}}}`)
	f.Add(`{"Data":{"req":{"Url":"http://h/","Method":"GET","Query":"{}"}}}`)
	f.Add(`{"Data":{"req":null}}`)
	fx := newFixture(f, nil)
	f.Fuzz(func(t *testing.T, payload string) {
		w := fx.do(t, req{method: http.MethodPost, target: "/Hello", body: strings.NewReader(payload), ctype: "application/json"})
		switch w.Code {
		case http.StatusOK:
			if !strings.Contains(w.Body.String(), `"Outputs":{"res":{"statusCode":"`) {
				t.Fatalf("200 without Outputs.res: %s", w.Body.String())
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for payload %q: %s", w.Code, payload, w.Body.String())
		}
		fx.logs.Reset()
	})
}

// TestInvokeRefusesClientRequests: the invocation endpoint takes the
// caller's credentials from the request body, so it answers only requests
// that carry nothing of a client's: no credential, and no mark a proxy or
// the App Service front end adds to a request it forwards (a client's
// request routed here by a misconfigured route prefix carries those,
// whatever the client itself leaves out). Before, only seven names were
// refused, and Forwarded, X-Forwarded-Host and the rest of their families
// went through. The host's own headers still pass.
func TestInvokeRefusesClientRequests(t *testing.T) {
	payload := hostPayload(t, "GET", "http://localhost:7071/api/Hello", map[string][]string{"Authorization": {"Bearer " + goodToken}}, nil, nil)
	tests := []struct {
		name  string
		value string
		// raw sets the name as written, not canonicalized, as a header
		// map filled by hand or another server may hold it.
		raw     bool
		refused bool
	}{
		// Credentials.
		{name: "Authorization", refused: true},
		{name: "Proxy-Authorization", refused: true},
		{name: "Cookie", refused: true},
		{name: "x-functions-key", refused: true},
		// Easy Auth's headers, all of them.
		{name: "X-MS-CLIENT-PRINCIPAL", refused: true},
		{name: "X-MS-CLIENT-PRINCIPAL-ID", refused: true},
		{name: "X-MS-CLIENT-PRINCIPAL-NAME", refused: true},
		{name: "X-MS-TOKEN-AAD-ACCESS-TOKEN", refused: true},
		// A proxy's account of the client's request.
		{name: "Forwarded", value: "for=203.0.113.7;host=evil.example;proto=https", refused: true},
		{name: "X-Forwarded-Host", refused: true},
		{name: "X-Forwarded-Proto", refused: true},
		{name: "X-Forwarded-For", refused: true},
		{name: "X-Forwarded-Port", refused: true},
		{name: "X-Forwarded-Prefix", refused: true},
		{name: "X-Original-URL", refused: true},
		{name: "X-Original-Host", refused: true},
		{name: "X-Real-IP", refused: true},
		{name: "X-Client-IP", refused: true},
		{name: "Client-IP", refused: true},
		{name: "True-Client-IP", refused: true},
		{name: "X-Forwarded", refused: true},
		{name: "X-Host", refused: true},
		{name: "Proxy-Client-IP", refused: true},
		{name: "WL-Proxy-Client-IP", refused: true},
		{name: "X-Envoy-External-Address", refused: true},
		{name: "x-envoy-original-path", refused: true},
		{name: "Via", value: "1.1 proxy", refused: true},
		{name: "Max-Forwards", value: "10", refused: true},
		// The App Service front end's marks.
		{name: "X-ARR-LOG-ID", refused: true},
		{name: "X-ARR-SSL", refused: true},
		{name: "DISGUISED-HOST", refused: true},
		{name: "WAS-DEFAULT-HOSTNAME", refused: true},
		{name: "X-SITE-DEPLOYMENT-ID", refused: true},
		{name: "X-AppService-Proto", refused: true},
		{name: "X-WAWS-Unencoded-URL", refused: true},
		// Azure Front Door's.
		{name: "X-Azure-ClientIP", refused: true},
		{name: "X-Azure-SocketIP", refused: true},
		{name: "X-Azure-FDID", refused: true},
		{name: "X-FD-HealthProbe", refused: true},
		// A browser's.
		{name: "Origin", value: "https://evil.example", refused: true},
		{name: "Sec-Fetch-Site", value: "cross-site", refused: true},
		// Spellings: any ASCII case, "_" for "-", a name not canonical.
		{name: "x-forwarded-host", raw: true, refused: true},
		{name: "FORWARDED", raw: true, refused: true},
		{name: "X_Forwarded_Host", raw: true, refused: true},
		{name: "x_ms_client_principal", raw: true, refused: true},
		{name: "X-Forwarded_For", refused: true},

		// The host's own.
		{name: "X-Azure-Functions-InvocationId", value: invocationID},
		{name: "X-Azure-Functions-HostVersion", value: "4.1036.1.1"},
		{name: "User-Agent", value: "Azure-Functions-Host/4.1036.1.1"},
		{name: "traceparent", value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		{name: "Accept-Encoding", value: "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := httptest.NewRequest(http.MethodPost, "/Hello", strings.NewReader(payload))
			r.Header.Set("Content-Type", "application/json")
			v := tt.value
			if v == "" {
				v = "x"
			}
			if tt.raw {
				r.Header[tt.name] = []string{v}
			} else {
				r.Header.Add(tt.name, v)
			}
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if !tt.refused {
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"statusCode":"200"`) {
					t.Fatalf("the host's own header %s: %d %s", tt.name, w.Code, w.Body.String())
				}
				return
			}
			pb := checkProblem(t, w, http.StatusBadRequest)
			if !strings.Contains(pb.Detail, "invocation endpoint") || !strings.Contains(strings.ToLower(pb.Detail), strings.ToLower(tt.name)) {
				t.Errorf("detail %q does not name the endpoint and %s", pb.Detail, tt.name)
			}
		})
	}
}
