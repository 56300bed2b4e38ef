package auth

import "slices"

// config returns the verifier's effective configuration, defaults filled
// in. Changing it changes nothing.
func (v *Verifier) config() Config {
	c := v.cfg
	c.Audiences, c.Issuers = slices.Clone(c.Audiences), slices.Clone(v.issuers())
	return c
}

// Explained reports whether the reason table explains word: the external
// tests hold every refusal they see to it.
func Explained(word string) bool {
	for _, d := range reasonTable {
		if d.word == word {
			return true
		}
	}
	return false
}

// For the external tests: the Easy Auth bound and header they probe.
const (
	MaxClientPrincipalBytes = maxClientPrincipalBytes
	HeaderAADAccessToken    = headerAADAccessToken
)
