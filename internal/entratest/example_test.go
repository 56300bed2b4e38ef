package entratest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

// A handler in jwt mode points at the issuer with AUTH_AUTHORITY and
// accepts the tokens it mints. A test would call entratest.New(t, cfg),
// which also closes the issuer when the test ends.
func Example() {
	is, err := entratest.Start(entratest.Config{})
	if err != nil {
		panic(err)
	}
	defer is.Close()

	env := []string{
		"AUTH_MODE=jwt",
		"AUTH_AUTHORITY=" + is.URL(), // http://127.0.0.1:PORT
		"AUTH_TENANT_ID=" + is.TenantID(),
		"AUTH_AUDIENCES=" + is.ClientID() + "," + is.AppIDURI(),
	}
	_ = env // the handler's environment, for exec.Cmd.Env

	tok := is.Mint(entratest.Token{}) // a delegated v2 access token with scp user_impersonation
	fmt.Println(strings.Count(tok, "."), "dots")

	resp, err := http.Get(is.MetadataURL(entratest.V2))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var md struct {
		Issuer string `json:"issuer"`
	}
	json.NewDecoder(resp.Body).Decode(&md)
	fmt.Println(md.Issuer)
	fmt.Println(is.MetadataFetches(), "metadata fetch")
	// Output:
	// 2 dots
	// https://login.microsoftonline.com/4d2f6a8e-1c3b-4e5f-9a7d-2b8c6e0f1a3d/v2.0
	// 1 metadata fetch
}
