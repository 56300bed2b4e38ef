package auth

// Explained reports whether word is one of reasons.go's words, which
// internal/explain's reason table explains (its tests hold the two to each
// other): the external tests hold every refusal they see to it.
func Explained(word string) bool {
	words, err := reasonWords()
	if err != nil {
		panic(err)
	}
	for _, w := range words {
		if w == word {
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
