package exhibitions_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/demo"
	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/internal/validate"
)

var admin = accounts.Account{Name: "panorama-test", Role: accounts.Admin}

// demoExhibition is the demo exhibition (two galleries, then the 720° hall) on real services.
func demoExhibition(t *testing.T) (*app.Core, exhibitions.Exhibition) {
	t.Helper()
	cfg := testenv.Config(t, testenv.Shared(t))
	core, err := app.Connect(cfg, app.NewLogger(cfg.Log, testenv.LogWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(core.Close)
	ctx := context.Background()
	if err := core.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.LoadLibrary(ctx, core.Docs, core.Library, core.Collections); err != nil {
		t.Fatal(err)
	}
	id, err := demo.LoadExhibitions(ctx, core.Docs, core.Library, core.Exhibitions)
	if err != nil {
		t.Fatal(err)
	}
	e, err := core.Exhibitions.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Sections) != 3 || e.Sections[2].Kind != exhibitions.Panorama {
		t.Fatalf("the demo exhibition is %+v", e.Sections)
	}
	return core, e
}

// copyInput is a deep enough copy of in for one case to change its hall.
func copyInput(in exhibitions.Input) exhibitions.Input {
	out := in
	out.Sections = make([]exhibitions.Section, len(in.Sections))
	for i, s := range in.Sections {
		s.Exhibits = append([]exhibitions.Exhibit(nil), s.Exhibits...)
		s.Hotspots = append([]exhibitions.Hotspot(nil), s.Hotspots...)
		s.Links = append([]exhibitions.Link(nil), s.Links...)
		if s.Scene != nil {
			scene := *s.Scene
			s.Scene = &scene
		}
		out.Sections[i] = s
	}
	return out
}

// TestPanoramaChecks: each bad scene, hotspot or link is refused with its field path and
// code, and the stored exhibition stays as it was.
func TestPanoramaChecks(t *testing.T) {
	core, e := demoExhibition(t)
	ctx := context.Background()
	hall := func(in *exhibitions.Input) *exhibitions.Section { return &in.Sections[2] }
	tests := []struct {
		name        string
		change      func(in *exhibitions.Input)
		field, code string
	}{
		{"no scene", func(in *exhibitions.Input) { hall(in).Scene = nil }, "sections[2].scene", "required"},
		{"a scene that is no item", func(in *exhibitions.Input) { hall(in).Scene.Item = "szm-nothere22" }, "sections[2].scene.item", "unknown_item"},
		{"a scene of a 3:2 photograph", func(in *exhibitions.Input) {
			hall(in).Scene = &exhibitions.FileRef{Item: in.Sections[1].Exhibits[0].Item}
		},
			"sections[2].scene.file", "scene_aspect"},
		{"a yaw of 180.5", func(in *exhibitions.Input) { hall(in).Hotspots[1].Yaw = 180.5 }, "sections[2].hotspots[1].yaw", "range"},
		{"a pitch of -91", func(in *exhibitions.Input) { hall(in).Hotspots[0].Pitch = -91 }, "sections[2].hotspots[0].pitch", "range"},
		{"a hotspot of the third exhibit of two", func(in *exhibitions.Input) { hall(in).Hotspots[0].Exhibit = 2 },
			"sections[2].hotspots[0].exhibit", "unknown_exhibit"},
		{"a link to a gallery", func(in *exhibitions.Input) { hall(in).Links = []exhibitions.Link{{Section: 0}} },
			"sections[2].links[0].section", "not_panorama"},
		{"a link to itself", func(in *exhibitions.Input) { hall(in).Links = []exhibitions.Link{{Section: 2}} },
			"sections[2].links[0].section", "link_self"},
		{"a link to a fourth room", func(in *exhibitions.Input) { hall(in).Links = []exhibitions.Link{{Section: 3}} },
			"sections[2].links[0].section", "unknown_section"},
		{"a link beyond the yaw", func(in *exhibitions.Input) {
			in.Sections = append(in.Sections, in.Sections[2])
			hall(in).Links = []exhibitions.Link{{Section: 3, Yaw: -181}}
		}, "sections[2].links[0].yaw", "range"},
		{"a gallery with hotspots", func(in *exhibitions.Input) { in.Sections[0].Hotspots = []exhibitions.Hotspot{{Exhibit: 0}} },
			"sections[0].hotspots", "not_panorama"},
		{"a gallery with a scene", func(in *exhibitions.Input) { in.Sections[1].Scene = hall(in).Scene }, "sections[1].scene", "not_panorama"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := copyInput(e.Input)
			tc.change(&in)
			_, err := core.Exhibitions.Update(ctx, admin, e.ID, e.Version, in)
			var errs validate.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Update: %v, want field errors", err)
			}
			found := false
			for _, p := range errs {
				found = found || p.Field == tc.field && p.Code == tc.code
			}
			if !found {
				t.Fatalf("errors %+v do not name %s (%s)", errs, tc.field, tc.code)
			}
			now, err := core.Exhibitions.Get(ctx, e.ID)
			if err != nil || now.Version != e.Version {
				t.Fatalf("the exhibition changed: version %s, want %s (%v)", now.Version, e.Version, err)
			}
		})
	}
}

// TestPanoramaPublicView: what leaves the library takes its hotspots with it, the others
// follow their exhibits to their new places, and a hall whose scene left is a gallery.
func TestPanoramaPublicView(t *testing.T) {
	core, e := demoExhibition(t)
	ctx := context.Background()
	washery := e.Sections[2].Exhibits[0].Item // also both exhibits of the first room
	if _, err := core.Library.Move(ctx, admin, washery, "", library.Withdrawn); err != nil {
		t.Fatal(err)
	}
	// The published cache of this process forgets the item within its refresh time.
	var pub exhibitions.Exhibition
	testwait.Until(t, "the washery leaves the public view", func() bool {
		var err error
		if pub, err = core.Exhibitions.Public(ctx, e); err != nil {
			t.Fatal(err)
		}
		return len(pub.Sections) != 3
	})
	if len(pub.Sections) != 2 || pub.Sections[1].Kind != exhibitions.Panorama {
		t.Fatalf("without the washery the public sees %+v", pub.Sections)
	}
	hall := pub.Sections[1]
	if len(hall.Exhibits) != 1 || len(hall.Hotspots) != 1 || hall.Hotspots[0].Exhibit != 0 || hall.Hotspots[0].Yaw != e.Sections[2].Hotspots[1].Yaw {
		t.Fatalf("the hall's hotspots %+v do not follow its exhibits %+v", hall.Hotspots, hall.Exhibits)
	}
	if _, err := core.Library.Move(ctx, admin, e.Sections[2].Scene.Item, "", library.Withdrawn); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the scene leaves the public view", func() bool {
		var err error
		if pub, err = core.Exhibitions.Public(ctx, e); err != nil {
			t.Fatal(err)
		}
		return len(pub.Sections) == 2 && pub.Sections[1].Scene == nil
	})
	if hall = pub.Sections[1]; hall.Kind != exhibitions.Gallery || hall.Scene != nil || len(hall.Hotspots) != 0 || len(hall.Exhibits) != 1 {
		t.Fatalf("without its scene the hall is %+v", hall)
	}
	notes, err := core.Exhibitions.Notes(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		if n.Field == "sections[2].scene.item" && n.Code == "not_published" {
			return
		}
	}
	t.Fatalf("no note tells the curators of the scene: %+v", notes)
}

func TestMain(m *testing.M) { testenv.Main(m) }
