package demo

import (
	"context"
	"errors"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/lectures"
)

const lecturesMarkerKey = "records/demo/lectures.json"

// DemoLecture is a scheduled demo lecture and its stream key (development only: keys are
// otherwise shown once to the lecturer and never again).
type DemoLecture struct {
	ID, Title, StreamKey string
	Start                time.Time
}

// LoadLectures schedules three public lectures the first time a data folder is used: one
// that may go live right away, and two in the coming days.
func LoadLectures(ctx context.Context, docs *docstore.Store, svc *lectures.Service, now time.Time) ([]DemoLecture, error) {
	var marker struct{ IDs []string }
	if _, err := docs.Get(ctx, lecturesMarkerKey, &marker); err == nil {
		return nil, nil
	} else if !errors.Is(err, docstore.ErrNotFound) {
		return nil, err
	}
	admin := accounts.Account{Name: "demo-loader", Role: accounts.Admin}
	day := now.Truncate(time.Hour)
	plan := []lectures.Input{
		{Title: "黄河文化与石嘴山的城市记忆", Lecturer: lectures.Lecturer{Name: "张老师（市文化馆）", Account: "zhang.lecturer"},
			Unit: "szs-culture-centre", Start: now.Add(5 * time.Minute).Truncate(time.Minute), Minutes: 90, Visibility: lectures.Public,
			Description: "公益大讲堂：从黄河岸边的渡口到煤城的兴起，讲述石嘴山的城市记忆。（示范讲座，可在讲座工作台开播）"},
		{Title: "非遗泥哇呜的制作与吹奏", Lecturer: lectures.Lecturer{Name: "赵老师（平罗县文化馆）", Account: "zhao.pingluo"},
			Unit: "pl-culture-centre", Start: day.Add(26 * time.Hour), Minutes: 60, Visibility: lectures.Public,
			Description: "平罗县非遗传承人讲解泥哇呜的取泥、制坯、烧制与吹奏技巧。"},
		{Title: "支宁建设者口述史分享会", Lecturer: lectures.Lecturer{Name: "李馆员（市图书馆）", Account: "li.librarian"},
			Unit: "szs-library", Start: day.Add(7*24*time.Hour + 3*time.Hour), Minutes: 120, Visibility: lectures.Registered,
			Description: "听支宁建设者和他们的后代讲述上世纪五六十年代来到石嘴山的故事。"},
	}
	var out []DemoLecture
	for _, in := range plan {
		l, key, err := svc.Create(ctx, admin, in)
		if err != nil {
			return nil, err
		}
		marker.IDs = append(marker.IDs, l.ID)
		out = append(out, DemoLecture{ID: l.ID, Title: l.Title, StreamKey: key, Start: l.Start})
	}
	if _, err := docs.Put(ctx, lecturesMarkerKey, marker, docstore.Create()); err != nil {
		return nil, err
	}
	return out, nil
}
