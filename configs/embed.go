// Package configs holds the default configuration and the Meilisearch settings, embedded
// into the binary so that it needs no files next to it.
package configs

import _ "embed"

// Defaults is configs/culturecloud.yaml: every setting with its default value.
//
//go:embed culturecloud.yaml
var Defaults []byte

// Units is the organisation tree loaded on first start.
//
//go:embed units.yaml
var Units []byte

// Vocabulary holds the controlled vocabularies of the library (themes, types, licences, languages).
//
//go:embed vocabulary.yaml
var Vocabulary []byte

// Synonyms are the search synonym groups (configs/synonyms.yaml).
//
//go:embed synonyms.yaml
var Synonyms []byte
