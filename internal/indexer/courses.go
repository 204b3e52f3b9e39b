package indexer

import (
	"context"
	"errors"

	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/search"
)

func (ix *Indexer) courseRecords() records[courses.Course, search.CourseDoc] {
	return records[courses.Course, search.CourseDoc]{index: search.CoursesIndex, ids: ix.courses.IDs, get: ix.courses.Get,
		notFound:  func(err error) bool { return errors.Is(err, courses.ErrNotFound) },
		published: func(c courses.Course) bool { return c.Status == library.Published }, doc: CourseDoc}
}

// indexCourse keeps a course in the public index while it is published.
func (ix *Indexer) indexCourse(ctx context.Context, id string) error {
	if ix.courses == nil {
		return nil
	}
	return indexRecord(ctx, ix, ix.courseRecords(), id)
}

// reconcileCourses upserts every published course.
func (ix *Indexer) reconcileCourses(ctx context.Context) error {
	if ix.courses == nil {
		return nil
	}
	return reconcileRecords(ctx, ix, ix.courseRecords())
}

// district is the district (or county) a unit lies in, "" for the city's own units.
func district(tree *units.Tree, unit string) string {
	d := ""
	for _, id := range tree.Path(unit) {
		if u, ok := tree.Get(id); ok && (u.Kind == "district" || u.Kind == "county") {
			d = u.ID
		}
	}
	return d
}

// CourseDoc is the search document of a published course.
func CourseDoc(c courses.Course, tree *units.Tree) search.CourseDoc {
	d := search.CourseDoc{ID: c.ID, Title: c.Title, Description: c.Description, Category: c.Category, Level: c.Level,
		Institution: c.Institution.Name, InstitutionKind: c.Institution.Kind, Lecturer: c.LecturerName, Unit: c.Unit,
		Lessons: len(c.Lessons), District: district(tree, c.Unit)}
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
