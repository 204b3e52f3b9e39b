package exhibitions

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// The view counter's targets (internal/views) of an exhibition and its exhibits.

// VisitTarget counts the visits of exhibition id.
func VisitTarget(id string) string { return "exhibition:" + id }

// ExhibitKey names what an exhibit shows: its item, and a short hash of its file and region
// when it has them. Counts follow the exhibit when curators move it between rooms or rewrite
// its label; two exhibits that show the very same thing count together.
func ExhibitKey(ex Exhibit) string {
	if ex.File == "" && ex.Region == nil {
		return ex.Item
	}
	what := ex.File
	if r := ex.Region; r != nil {
		what += fmt.Sprintf("|%d,%d,%d,%d", r.X, r.Y, r.W, r.H)
	}
	sum := sha256.Sum256([]byte(what))
	return ex.Item + "~" + hex.EncodeToString(sum[:6])
}

// ExhibitTarget counts the views and dwell of the exhibit of exhibition id named by key
// (ExhibitKey).
func ExhibitTarget(id, key string) string { return "exhibit:" + id + "/" + key }

// FindExhibit is the exhibit of e whose ExhibitKey is key, with its room and place.
func (e Exhibition) FindExhibit(key string) (ex Exhibit, section, index int, ok bool) {
	for i, sec := range e.Sections {
		for j, x := range sec.Exhibits {
			if ExhibitKey(x) == key {
				return x, i, j, true
			}
		}
	}
	return Exhibit{}, 0, 0, false
}
