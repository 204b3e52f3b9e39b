package library

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Term is one entry of a controlled vocabulary.
type Term struct {
	ID       string `yaml:"id" json:"id"`
	ZH       string `yaml:"zh" json:"zh"`
	EN       string `yaml:"en" json:"en"`
	Download bool   `yaml:"download" json:"download,omitempty"`
	// URI names a licence for machines (IIIF rights): Creative Commons or RightsStatements.org.
	URI string `yaml:"uri" json:"uri,omitempty"`
}

// Vocabulary is the set of controlled terms items may use.
type Vocabulary struct {
	Themes    []Term `yaml:"themes" json:"themes"`
	Types     []Term `yaml:"types" json:"types"`
	Licences  []Term `yaml:"licences" json:"licences"`
	Languages []Term `yaml:"languages" json:"languages"`
	// For the online art courses.
	CourseCategories []Term `yaml:"course_categories" json:"course_categories"`
	CourseLevels     []Term `yaml:"course_levels" json:"course_levels"`
	InstitutionKinds []Term `yaml:"institution_kinds" json:"institution_kinds"`
}

// ParseVocabulary reads configs/vocabulary.yaml.
func ParseVocabulary(data []byte) (*Vocabulary, error) {
	var v Vocabulary
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	for name, list := range map[string][]Term{"themes": v.Themes, "types": v.Types, "licences": v.Licences, "languages": v.Languages,
		"course_categories": v.CourseCategories, "course_levels": v.CourseLevels, "institution_kinds": v.InstitutionKinds} {
		if len(list) == 0 {
			return nil, fmt.Errorf("vocabulary: %s is empty", name)
		}
		seen := map[string]bool{}
		for _, t := range list {
			if t.ID == "" || t.ZH == "" || t.EN == "" || seen[t.ID] {
				return nil, fmt.Errorf("vocabulary: %s has a blank or repeated term %q", name, t.ID)
			}
			seen[t.ID] = true
		}
	}
	for _, t := range v.Licences {
		if !strings.HasPrefix(t.URI, "http://creativecommons.org/") && !strings.HasPrefix(t.URI, "http://rightsstatements.org/vocab/") {
			return nil, fmt.Errorf("vocabulary: licence %q needs a uri of Creative Commons or RightsStatements.org (http://, as IIIF asks)", t.ID)
		}
	}
	return &v, nil
}

// Find returns the term with id in list.
func Find(list []Term, id string) (Term, bool) {
	for _, t := range list {
		if t.ID == id {
			return t, true
		}
	}
	return Term{}, false
}
