// Package units models the organisation tree: the city, its districts and county, and below
// them libraries, culture centres, stations and service points. Staff belong to one unit and
// act on that unit and everything below it.
package units

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// Kinds of unit.
func Kinds() []string {
	return []string{"city", "district", "county", "library", "culture_centre", "station", "service_point"}
}

// Unit is one node of the tree.
type Unit struct {
	ID     string `json:"id"`
	Parent string `json:"parent,omitempty"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	Kind   string `json:"kind"`
	// Review is the unit's review policy; empty inherits the parent's.
	Review review.Policy `json:"review,omitempty"`
}

// Tree is every unit, in a stable order (parents before children).
type Tree struct {
	Units []Unit `json:"units"`
}

// ErrNotFound means no unit with that id.
var ErrNotFound = errors.New("unit not found")

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,47}$`)

// Get finds a unit.
func (t *Tree) Get(id string) (Unit, bool) {
	for _, u := range t.Units {
		if u.ID == id {
			return u, true
		}
	}
	return Unit{}, false
}

// Within reports whether unit is scope itself or lies below it.
func (t *Tree) Within(scope, unit string) bool {
	for depth := 0; unit != "" && depth < 64; depth++ {
		if unit == scope {
			return true
		}
		u, ok := t.Get(unit)
		if !ok {
			return false
		}
		unit = u.Parent
	}
	return false
}

// Path is the chain of ids from the root down to id.
func (t *Tree) Path(id string) []string {
	var path []string
	for depth := 0; id != "" && depth < 64; depth++ {
		u, ok := t.Get(id)
		if !ok {
			break
		}
		path = append(path, u.ID)
		id = u.Parent
	}
	slices.Reverse(path)
	return path
}

// ReviewPolicy is the review policy of unit: its own, else the nearest ancestor's, else
// review.Default, so that a tree stored before policies existed still reviews.
func (t *Tree) ReviewPolicy(unit string) review.Policy {
	path := t.Path(unit)
	for i := len(path) - 1; i >= 0; i-- {
		if u, _ := t.Get(path[i]); u.Review != "" {
			return u.Review
		}
	}
	return review.Default
}

// Children lists the direct children of id ("" for the roots).
func (t *Tree) Children(id string) []Unit {
	var out []Unit
	for _, u := range t.Units {
		if u.Parent == id {
			out = append(out, u)
		}
	}
	return out
}

// Validate checks a new unit against the tree.
func (t *Tree) Validate(u Unit) error {
	var errs validate.Errors
	if !idPattern.MatchString(u.ID) {
		errs.Add("id", "unit_id")
	} else if _, exists := t.Get(u.ID); exists {
		errs.Add("id", "conflict")
	}
	if u.Parent != "" {
		if _, ok := t.Get(u.Parent); !ok {
			errs.Add("parent", "unit")
		}
	}
	errs.Text("name_zh", u.NameZH, true, 2, 60)
	errs.Text("name_en", u.NameEN, true, 2, 120)
	if !slices.Contains(Kinds(), u.Kind) {
		errs.Add("kind", "unit_kind")
	}
	validPolicy(&errs, u.Review)
	return errs.Err()
}

// Store keeps the whole tree as one document with optimistic concurrency.
type Store interface {
	LoadUnits(ctx context.Context) (Tree, string, error)
	SaveUnits(ctx context.Context, t Tree, etag string) (string, error)
}

// Add validates u and saves the tree with it; a concurrent change makes it retry once on
// the fresh tree.
func Add(ctx context.Context, s Store, u Unit) error {
	for attempt := 0; ; attempt++ {
		tree, etag, err := s.LoadUnits(ctx)
		if err != nil {
			return err
		}
		if err := tree.Validate(u); err != nil {
			return err
		}
		tree.Units = append(tree.Units, u)
		_, err = s.SaveUnits(ctx, tree, etag)
		if err == nil || attempt > 0 || !errors.Is(err, ErrChanged) {
			return err
		}
	}
}

func validPolicy(errs *validate.Errors, p review.Policy) {
	if p != "" && !p.Valid() {
		errs.Add("review", "review_policy")
	}
}

// Rename is an admin's change of a unit's names and review policy; nil fields stay, and an
// empty policy goes back to inheriting the parent's.
type Rename struct {
	NameZH *string        `json:"name_zh"`
	NameEN *string        `json:"name_en"`
	Review *review.Policy `json:"review"`
}

// Update applies r to the unit id and saves the tree, retrying once on a concurrent change.
func Update(ctx context.Context, s Store, id string, r Rename) (Unit, error) {
	for attempt := 0; ; attempt++ {
		tree, etag, err := s.LoadUnits(ctx)
		if err != nil {
			return Unit{}, err
		}
		i := slices.IndexFunc(tree.Units, func(u Unit) bool { return u.ID == id })
		if i < 0 {
			return Unit{}, ErrNotFound
		}
		u := tree.Units[i]
		var errs validate.Errors
		if r.NameZH != nil {
			u.NameZH = strings.TrimSpace(*r.NameZH)
			errs.Text("name_zh", u.NameZH, true, 2, 60)
		}
		if r.NameEN != nil {
			u.NameEN = strings.TrimSpace(*r.NameEN)
			errs.Text("name_en", u.NameEN, true, 2, 120)
		}
		if r.Review != nil {
			u.Review = *r.Review
			validPolicy(&errs, u.Review)
		}
		if err := errs.Err(); err != nil {
			return Unit{}, err
		}
		tree.Units[i] = u
		_, err = s.SaveUnits(ctx, tree, etag)
		if err == nil {
			return u, nil
		}
		if attempt > 0 || !errors.Is(err, ErrChanged) {
			return Unit{}, err
		}
	}
}

// ErrChanged means the tree changed between load and save.
var ErrChanged = errors.New("unit tree changed concurrently")

type seedNode struct {
	ID       string     `yaml:"id"`
	NameZH   string     `yaml:"name_zh"`
	NameEN   string     `yaml:"name_en"`
	Kind     string     `yaml:"kind"`
	Review   string     `yaml:"review"`
	Children []seedNode `yaml:"children"`
}

// ParseSeed reads the nested YAML of configs/units.yaml into a flat, validated tree.
func ParseSeed(data []byte) (Tree, error) {
	var roots []seedNode
	if err := yaml.Unmarshal(data, &roots); err != nil {
		return Tree{}, fmt.Errorf("units seed: %w", err)
	}
	var t Tree
	var add func(parent string, nodes []seedNode) error
	add = func(parent string, nodes []seedNode) error {
		for _, n := range nodes {
			u := Unit{ID: n.ID, Parent: parent, NameZH: n.NameZH, NameEN: n.NameEN, Kind: n.Kind, Review: review.Policy(n.Review)}
			if err := t.Validate(u); err != nil {
				return fmt.Errorf("units seed: unit %q: %w", n.ID, err)
			}
			t.Units = append(t.Units, u)
			if err := add(n.ID, n.Children); err != nil {
				return err
			}
		}
		return nil
	}
	return t, add("", roots)
}

// placeSuffixes end the names of units named after their place: 长胜街道综合文化站 stands
// in 长胜街道, 大武口区 is also called 大武口.
var placeSuffixes = []string{"综合文化站", "文化站", "农家书屋", "社区书屋", "图书馆", "文化馆", "市", "区", "县"}

// PlaceNames are the unit's Chinese name and the names of the place it stands for, without
// the kind of institution or of area (大武口区图书馆 → 大武口区, 大武口): what people type
// when they look for what the unit holds.
func (u Unit) PlaceNames() []string {
	names := []string{u.NameZH}
	name := u.NameZH
	for _, suffix := range placeSuffixes {
		short, ok := strings.CutSuffix(name, suffix)
		if ok && len([]rune(short)) >= 2 {
			names = append(names, short)
			name = short
		}
	}
	return names
}
