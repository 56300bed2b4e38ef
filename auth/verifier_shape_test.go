package auth

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/entrafunc/entrafunc/internal/entratest"
)

// The Verify cases of a token's shape: payloads that are not a claims
// object, segments that do not decode, sizes. runVerifyCases
// (verifier_test.go) runs every table.

// TestVerifyMalformedPayload: a signed payload that is not a JSON object
// of claims of the expected types is malformed.
func TestVerifyMalformedPayload(t *testing.T) {
	t.Parallel()
	trusted, _ := testKeys(t)

	runVerifyCases(t, []verifyCase{
		{
			name:   "payload is an array",
			token:  signRaw(t, trusted, rawHeader, `[]`),
			reason: "malformed",
		},
		{
			name:   "payload is a string",
			token:  signRaw(t, trusted, rawHeader, `"claims"`),
			reason: "malformed",
		},
		{
			name:   "payload is not JSON",
			token:  signRaw(t, trusted, rawHeader, `{"tid":`),
			reason: "malformed",
		},
		{
			name:   "payload with trailing data",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, v2Claims())+`{}`),
			reason: "malformed",
		},
		{
			name:   "scp is an array",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, claimsWith(v2Claims(), "scp", nil), `"scp":["user_impersonation"]`)),
			reason: "malformed",
		},
		{
			name:   "tid is a number",
			token:  signRaw(t, trusted, rawHeader, rawPayload(t, claimsWith(v2Claims(), "tid", nil), `"tid":42`)),
			reason: "malformed",
		},
	})
}

// TestVerifyShape: what is not a three-segment JWS of decodable segments,
// within the size limit, is malformed, whatever else it holds.
func TestVerifyShape(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding
	valid := signRS256(t, v2Claims())
	validParts := strings.Split(valid, ".")
	big := signRS256(t, claimsWith(v2Claims(), "pad", strings.Repeat("x", MaxTokenBytes)))
	if len(big) <= MaxTokenBytes {
		t.Fatalf("oversized token is only %d bytes", len(big))
	}
	cases := []verifyCase{
		{
			name:   "five-part JWE-shaped token",
			token:  "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a2V5.aXY.Y2lwaGVy.dGFn",
			reason: "malformed",
		},
		{
			name:   "valid token with two more parts",
			token:  valid + ".YQ.Yg",
			reason: "malformed",
		},
		{
			name:   "signature not base64url",
			token:  validParts[0] + "." + validParts[1] + ".not*base64",
			reason: "malformed",
		},
		{
			name:   "header not JSON",
			token:  enc.EncodeToString([]byte(`{"alg":`)) + "." + validParts[1] + "." + validParts[2],
			reason: "malformed",
		},
		{
			name:   "token over 16 KiB",
			token:  big,
			reason: "malformed",
		},
	}
	for i, g := range []string{
		"", ".", "..", "...", "garbage", "a.b", "a.b.c", "eyJ.eyJ.sig",
		"Bearer " + valid, " " + valid, valid + " ", "%%%.%%%.%%%", "\x00.\x00.\x00",
		strings.Repeat(".", 100),
	} {
		cases = append(cases, verifyCase{name: fmt.Sprintf("garbage %d", i), token: g, reason: "malformed"})
	}
	runVerifyCases(t, cases)
}

// tokenOfLength returns a token signed by the trusted key that is exactly n
// bytes long, padding a header member and a claim.
func tokenOfLength(t *testing.T, n int) string {
	t.Helper()
	trusted, _ := testKeys(t)
	tok := entratest.OfLength(n, func(h, p string) string {
		header := `{"alg":"RS256","typ":"JWT","kid":"` + testKID + `","x":"` + h + `"}`
		return signRaw(t, trusted, header, rawPayload(t, claimsWith(v2Claims(), "pad", p)))
	})
	if tok == "" {
		t.Fatalf("no token of length %d", n)
	}
	return tok
}

func TestVerifySizeLimit(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, nil)
	atLimit := tokenOfLength(t, MaxTokenBytes)
	if _, err := v.Verify(context.Background(), atLimit); err != nil {
		t.Errorf("token of exactly %d bytes: %v", len(atLimit), err)
	}
	over := tokenOfLength(t, MaxTokenBytes+1)
	_, err := v.Verify(context.Background(), over)
	if err == nil {
		t.Fatalf("token of %d bytes accepted", len(over))
	}
	if got := tokenReason(t, err); got != "malformed" {
		t.Errorf("reason = %q, want malformed", got)
	}
}
