package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/entrafunc/entrafunc/internal/bounded"
	"github.com/golang-jwt/jwt/v5"
)

// A token is read here the way golang-jwt's Parser.ParseWithClaims reads
// it, with RS256 its only method and no claims validation, step for step
// and error for error, but in one pass: each segment is base64-decoded
// once, the header is scanned once (and judged on the way, see
// judgeHeader), the claims are decoded into their struct in one walk, and
// the signature is golang-jwt's SigningMethodRS256.Verify. The parser
// would decode the header twice (here and into its map), the claims by
// reflection after a full validity scan, and copy what it signs.

// jws is a token read step by step (the steps of verifier.go): its
// segments, then its header, then its claims and signature, each step
// leaving what the next needs.
type jws struct {
	// h, p and s are the three segments as the token has them, and
	// signed is header.payload: what is signed.
	h, p, s, signed string
	// buf holds the three segments decoded, each at its own offset: one
	// allocation for the three.
	buf []byte
	// header is the JOSE header as golang-jwt decodes it, for the
	// keyfunc; nil until readHeader has judged it.
	header map[string]any
	claims *claims
	sig    []byte
}

// splitToken cuts raw into its three segments, as golang-jwt does: exactly
// two dots, or it is no JWS.
func splitToken(raw string) (header, payload, sig string, ok bool) {
	header, rest, ok1 := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return "", "", "", false
	}
	return header, payload, sig, true
}

// The three reading steps fail as golang-jwt's parser fails and in its
// order: the segments, the header, the claims, the signature's encoding.
// The header is judged as judgeHeader judges it before its members are
// decoded. readPayload does not need readHeader to have passed, so that a
// trace judges the claims of a token whose header it refuses. Their
// errors are TokenErrors.

// split cuts raw into t's segments.
func (t *jws) split(raw string) error {
	h, p, s, ok := splitToken(raw)
	if !ok {
		return classify("", jwtError("token contains an invalid number of segments", jwt.ErrTokenMalformed))
	}
	enc := base64.RawURLEncoding
	t.h, t.p, t.s, t.signed = h, p, s, raw[:len(h)+1+len(p)]
	t.buf = make([]byte, enc.DecodedLen(len(h))+enc.DecodedLen(len(p))+enc.DecodedLen(len(s)))
	return nil
}

// readHeader decodes and judges t's header.
func (t *jws) readHeader() error {
	hn, err := base64.RawURLEncoding.Decode(t.buf, []byte(t.h))
	if err != nil {
		return invalidToken(reasonMalformed, errors.New("the header is not base64url"))
	}
	var arr [8]member
	ms, err := judgeHeader(string(t.buf[:hn]), arr[:0])
	if err != nil {
		return err
	}
	if t.header, err = headerMap(ms); err != nil {
		return classify("", err)
	}
	return nil
}

// readPayload decodes t's claims and its signature's encoding.
func (t *jws) readPayload() error {
	enc := base64.RawURLEncoding
	at := enc.DecodedLen(len(t.h))
	pn, err := enc.Decode(t.buf[at:], []byte(t.p))
	if err != nil {
		return classify("", jwtError("could not base64 decode claim", jwt.ErrTokenMalformed, err))
	}
	if t.claims, err = decodeClaims(t.buf[at : at+pn]); err != nil {
		return classify("", err)
	}
	at += enc.DecodedLen(len(t.p))
	sn, err := enc.Decode(t.buf[at:], []byte(t.s))
	if err != nil {
		return classify("", jwtError("could not base64 decode signature", jwt.ErrTokenMalformed, err))
	}
	t.sig = t.buf[at : at+sn : at+sn]
	return nil
}

// headerMap decodes the header's members into the map golang-jwt gives a
// keyfunc: a plain string as written, anything else by encoding/json.
func headerMap(ms []member) (map[string]any, error) {
	m := make(map[string]any, len(ms))
	for _, mb := range ms {
		if s, ok := plainString(mb.raw); ok {
			m[mb.name] = s
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(mb.raw), &v); err != nil {
			// A number out of float64's range: its text may be long.
			return nil, jwtError("could not JSON decode header", jwt.ErrTokenMalformed, fmt.Errorf("member %s: %s", bounded.Quote(mb.name), bounded.Cut(err.Error(), bounded.Max)))
		}
		m[mb.name] = v
	}
	return m, nil
}

// kid is the header's kid when it is a string, for a message.
func (t *jws) kid() string {
	kid, _ := t.header["kid"].(string)
	return kid
}

// verify checks t's signature with the key kf returns for it, as
// golang-jwt's parser does after decoding: kf sees the token as the
// parser would show it, and its error, an empty key set and a bad
// signature are the parser's errors. A nil kf is no key.
func (t *jws) verify(raw string, kf jwt.Keyfunc) error {
	if kf == nil {
		return jwtError("no keyfunc was provided", jwt.ErrTokenUnverifiable)
	}
	tok := &jwt.Token{Raw: raw, Method: jwt.SigningMethodRS256, Header: t.header, Claims: t.claims, Signature: t.sig}
	key, err := kf(tok)
	if err != nil {
		return jwtError("error while executing keyfunc", jwt.ErrTokenUnverifiable, err)
	}
	if set, ok := key.(jwt.VerificationKeySet); ok {
		if len(set.Keys) == 0 {
			return jwtError("keyfunc returned empty verification key set", jwt.ErrTokenUnverifiable)
		}
		for _, k := range set.Keys {
			if err = jwt.SigningMethodRS256.Verify(t.signed, t.sig, k); err == nil {
				break
			}
		}
	} else {
		err = jwt.SigningMethodRS256.Verify(t.signed, t.sig, key)
	}
	if err != nil {
		return jwtError("", jwt.ErrTokenSignatureInvalid, err)
	}
	return nil
}

// jwtError words an error as golang-jwt's parser does (its newError): the
// kind, the message, the cause, each matched by errors.Is.
func jwtError(msg string, kind error, more ...error) error {
	format, args := "%w", []any{kind}
	if msg != "" {
		format, args = "%w: %s", append(args, msg)
	}
	for _, e := range more {
		format += ": %w"
		args = append(args, e)
	}
	return fmt.Errorf(format, args...)
}
