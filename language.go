package gatehouse

import (
	"strconv"
	"strings"
)

// PickLanguage returns the language that an Accept-Language header
// ("fr-CA;q=0.9, en;q=0.8") prefers most among those has accepts, or
// fallback. Only a tag's primary subtag counts, in lower case; a tag with
// q=0 or a q that does not parse is ignored. The pages and the messages
// pick their words with it.
func PickLanguage(header string, has func(lang string) bool, fallback string) string {
	best, bestQ := fallback, -1.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if q > 0 && q > bestQ && has(primary) {
			best, bestQ = primary, q
		}
	}
	return best
}
