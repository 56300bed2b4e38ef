package auth

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
