package indexer

import (
	"context"
	"errors"

	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/search"
)

// indexCourse keeps a course in the public index while it is published.
func (ix *Indexer) indexCourse(ctx context.Context, id string) error {
	if ix.courses == nil {
		return nil
	}
	c, err := ix.courses.Get(ctx, id)
	if errors.Is(err, courses.ErrNotFound) || err == nil && c.Status != library.Published {
		return ix.deleteEverywhere(ctx, id, search.CoursesIndex)
	}
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	task, err := ix.search.Upsert(ctx, search.CoursesIndex, []search.CourseDoc{CourseDoc(c, &tree)})
	if err != nil {
		return err
	}
	return ix.search.Wait(ctx, task)
}

// reconcileCourses upserts every published course.
func (ix *Indexer) reconcileCourses(ctx context.Context) error {
	if ix.courses == nil {
		return nil
	}
	ids, err := ix.courses.IDs(ctx)
	if err != nil {
		return err
	}
	tree, _, err := ix.units.LoadUnits(ctx)
	if err != nil {
		return err
	}
	var docs []search.CourseDoc
	for _, id := range ids {
		c, err := ix.courses.Get(ctx, id)
		if errors.Is(err, courses.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if c.Status == library.Published {
			docs = append(docs, CourseDoc(c, &tree))
		}
	}
	if len(docs) == 0 {
		return nil
	}
	task, err := ix.search.Upsert(ctx, search.CoursesIndex, docs)
	if err != nil {
		return err
	}
	return ix.search.Wait(ctx, task)
}

// CourseDoc is the search document of a published course.
func CourseDoc(c courses.Course, tree *units.Tree) search.CourseDoc {
	d := search.CourseDoc{ID: c.ID, Title: c.Title, Description: c.Description, Category: c.Category, Level: c.Level,
		Institution: c.Institution.Name, InstitutionKind: c.Institution.Kind, Lecturer: c.LecturerName, Unit: c.Unit,
		Lessons: len(c.Lessons)}
	for _, id := range tree.Path(c.Unit) {
		if u, ok := tree.Get(id); ok && (u.Kind == "district" || u.Kind == "county") {
			d.District = u.ID
		}
	}
	if c.PublishedAt != nil {
		d.PublishedAt = c.PublishedAt.Unix()
	}
	if c.Cover != nil {
		d.CoverItem, d.CoverPath = c.Cover.Item, c.Cover.Path
	}
	d.Pinyin = search.Pinyin(c.Title, c.LecturerName, c.Institution.Name)
	d.Grams = search.Bigrams(c.Title, c.LecturerName, c.Institution.Name, c.Description)
	return d
}
