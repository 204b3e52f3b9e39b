package search

import (
	"encoding/hex"

	"github.com/meilisearch/meilisearch-go"
)

// AccountsIndex lists staff and citizen accounts for the administrators' directory.
const AccountsIndex = "accounts"

// AccountDoc is the searchable view of an account: never a password hash or a token.
type AccountDoc struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Email       string   `json:"email,omitempty"`
	Role        string   `json:"role"`
	Unit        string   `json:"unit,omitempty"`
	UnitPath    []string `json:"unit_path,omitempty"`
	UnitName    string   `json:"unit_name,omitempty"`
	Disabled    bool     `json:"disabled"`
	CreatedAt   int64    `json:"created_at"`
}

func accountsSettings() meilisearch.Settings {
	return meilisearch.Settings{
		SearchableAttributes: []string{"name", "display_name", "unit_name", "email"},
		FilterableAttributes: []string{"role", "unit", "unit_path", "disabled"},
		SortableAttributes:   []string{"created_at", "name"},
		DisplayedAttributes:  []string{"*"},
	}
}

// DocID turns a record key into a Meilisearch document id, which may hold only ASCII
// letters, digits, '-' and '_' (record keys may also hold '.').
func DocID(key string) string { return hex.EncodeToString([]byte(key)) }

// Eq builds the filter "attr = value" with value quoted and escaped, so that user input can
// never change the shape of a filter expression.
func Eq(attr, value string) string {
	escaped := make([]byte, 0, len(value)+2)
	escaped = append(escaped, '"')
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c == '"' || c == '\\' {
			escaped = append(escaped, '\\')
		}
		escaped = append(escaped, c)
	}
	escaped = append(escaped, '"')
	return attr + " = " + string(escaped)
}
