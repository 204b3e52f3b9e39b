package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/courses"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
)

const coursesMarkerKey = "records/demo/courses.json"

// demoLessons are the lessons of the demo course; their videos are drawn by ffmpeg.
var demoLessons = []struct{ title, pattern string }{
	{"第一课：执笔与坐姿", "testsrc2"},
	{"第二课：横画与竖画", "smptebars"},
	{"第三课：永字八法", "rgbtestsrc"},
}

// LoadCourses publishes a demo course of short generated lesson videos the first time a data
// folder is used; the workers transcode them like any upload. Without ffmpeg it does nothing.
func LoadCourses(ctx context.Context, docs *docstore.Store, lib *library.Service, svc *courses.Service) (int, error) {
	var marker struct{ Course string }
	if _, err := docs.Get(ctx, coursesMarkerKey, &marker); err == nil {
		return 0, nil
	} else if !errors.Is(err, docstore.ErrNotFound) {
		return 0, err
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return 0, nil
	}
	dir, err := os.MkdirTemp("", "cc-demo-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	admin := accounts.Account{Name: "demo-loader", Role: accounts.Admin}
	var lessons []courses.Lesson
	for i, l := range demoLessons {
		data, err := lessonVideo(ctx, ffmpeg, dir, l.pattern, 440+110*i)
		if err != nil {
			return 0, err
		}
		it, err := lib.Create(ctx, admin, library.Fields{Title: "少儿书法入门 · " + l.title, Type: "MovingImage", Theme: "folk-art",
			Unit: "szs-culture-centre", Licence: "in-copyright", Language: "zh", Creator: []string{"张老师（市文化馆）"},
			Description: "石嘴山市文化馆线上艺术课堂示范课程的课时视频。"})
		if err != nil {
			return 0, err
		}
		f, err := addFile(ctx, docs, lib, admin, it.ID, l.title+".mp4", fmt.Sprintf("lesson-%d.mp4", i+1), "video/mp4", data)
		if err != nil {
			return 0, err
		}
		if err := publish(ctx, lib, admin, it.ID); err != nil {
			return 0, err
		}
		lessons = append(lessons, courses.Lesson{Title: l.title, Media: courses.FileRef{Item: it.ID, Path: f.Path}})
	}
	c, err := svc.Create(ctx, admin, courses.Input{Title: "少儿书法入门", Category: "calligraphy", Level: "beginner",
		Lecturer: "zhang.lecturer", Unit: "szs-culture-centre", AllowGuests: true,
		Institution: courses.Institution{Name: "石嘴山市文化馆", Kind: "culture-centre"},
		Description: "面向少年儿童的毛笔书法入门课：执笔、坐姿与基本笔画。（示范数据，视频为生成的测试画面。）", Lessons: lessons})
	if err != nil {
		return 0, err
	}
	if c, err = svc.Move(ctx, admin, c.ID, c.Version, library.InReview); err != nil {
		return 0, err
	}
	if err := approveAll(func(r accounts.Account) (library.Status, error) {
		c, err = svc.Review(ctx, r, c.ID, c.Version, review.Decision{Approve: true})
		return c.Status, err
	}); err != nil {
		return 0, err
	}
	marker.Course = c.ID
	if _, err := docs.Put(ctx, coursesMarkerKey, marker, docstore.Create()); err != nil {
		return 0, err
	}
	return 1, nil
}

// lessonVideo draws a 12-second 640×360 clip with a tone.
func lessonVideo(ctx context.Context, ffmpeg, dir, pattern string, tone int) ([]byte, error) {
	out := filepath.Join(dir, pattern+".mp4")
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", pattern+"=size=640x360:rate=25", "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d", tone),
		"-t", "12", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("demo lesson video: %w: %s", err, b)
	}
	return os.ReadFile(out)
}
