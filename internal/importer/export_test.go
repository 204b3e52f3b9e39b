package importer

import (
	"errors"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
)

// ParseRow exposes the row parser to the external tests: it reads header and then record
// (as row 2) and returns the fields, the wanted status and the files.
func ParseRow(headerCells, record []string, vocab *library.Vocabulary, tree *units.Tree, actor accounts.Account,
	now time.Time) (library.Fields, library.Status, []string, error) {
	h, err := parseHeader(headerCells)
	if err != nil {
		return library.Fields{}, "", nil, err
	}
	p := &parser{h: h, vocab: vocab, tree: tree, actor: actor, now: now}
	r, err := p.parse(2, record)
	return r.Fields, r.Status, r.Files, err
}

// ErrorColumns lists the column named by each problem of a row error (nil when err is not one).
func ErrorColumns(err error) []string {
	var ce cellErrors
	if !errors.As(err, &ce) {
		return nil
	}
	cols := make([]string, len(ce))
	for i, c := range ce {
		cols[i] = c.Column
	}
	return cols
}
