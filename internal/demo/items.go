package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/collections"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
	"github.com/shizuishan/culturecloud/storage"
)

// markerKey records that the demo library was loaded, so a restart does not load it twice.
const markerKey = "records/demo/library.json"

type demoItem struct {
	fields library.Fields
	hue    float64 // colour of the generated picture
}

var demoItems = []demoItem{
	{library.Fields{Title: "上海支宁青年在石嘴山的合影", Type: "StillImage", Theme: "migrant", Unit: "dwk-library", Licence: "cc-by-nc-4.0",
		Creator: []string{"大武口区图书馆"}, Subject: []string{"支宁", "移民", "老照片"}, Period: "1958-1966", Language: "zh",
		Description: "1958 年起，上海青年响应号召支援宁夏建设，这张合影摄于石嘴山。", Place: library.Place{Name: "大武口"}}, 0.05},
	{library.Fields{Title: "大武口洗煤厂旧影", Type: "StillImage", Theme: "industrial", Unit: "dwk-library", Licence: "cc-by-4.0",
		Subject: []string{"洗煤厂", "煤矿", "工业遗产"}, Period: "1975", Description: "大武口洗煤厂是石嘴山工业文化的见证。"}, 0.6},
	{library.Fields{Title: "石炭井矿区街景", Type: "StillImage", Theme: "industrial", Unit: "dwk-library", Licence: "cc-by-4.0",
		Subject: []string{"石炭井", "矿区"}, Period: "1965", Description: "石炭井矿区的街道与职工宿舍。"}, 0.45},
	{library.Fields{Title: "泥哇呜制作技艺", Type: "StillImage", Theme: "intangible", Unit: "pl-culture-centre", Licence: "cc-by-4.0",
		Subject: []string{"泥哇呜", "非物质文化遗产"}, Period: "2018", Description: "泥哇呜是用黄河泥土烧制的吹奏乐器，平罗县传承至今。"}, 0.1},
	{library.Fields{Title: "葫芦烫画作品", Type: "StillImage", Theme: "intangible", Unit: "hn-library", Licence: "cc-by-4.0",
		Subject: []string{"葫芦烫画", "非遗"}, Period: "2020", Description: "惠农区艺人创作的葫芦烫画。"}, 0.12},
	{library.Fields{Title: "贺兰山岩画拓片", Type: "StillImage", Theme: "history", Unit: "szs-library", Licence: "public-domain",
		Subject: []string{"贺兰山岩画", "岩画"}, Description: "贺兰山东麓的古代岩画，记录了先民的生活。"}, 0.08},
	{library.Fields{Title: "沙湖晨景", Type: "StillImage", Theme: "tourism", Unit: "pl-library", Licence: "cc-by-4.0",
		Subject: []string{"沙湖"}, Period: "2022", Description: "沙湖景区的清晨，芦苇与沙丘相映。"}, 0.55},
	{library.Fields{Title: "黄河石嘴山段", Type: "StillImage", Theme: "yellow-river", Unit: "hn-library", Licence: "cc-by-4.0",
		Subject: []string{"黄河"}, Period: "2021", Description: "黄河流经惠农区的河段。"}, 0.58},
}

// LoadLibrary publishes a few generated items and a featured collection the first time a
// data folder is used. The pictures are drawn here: nothing is downloaded.
func LoadLibrary(ctx context.Context, docs *docstore.Store, lib *library.Service, cols *collections.Service) (int, error) {
	var marker struct{ Items []string }
	if _, err := docs.Get(ctx, markerKey, &marker); err == nil {
		return 0, nil
	} else if !errors.Is(err, docstore.ErrNotFound) {
		return 0, err
	}
	admin := accounts.Account{Name: "demo-loader", Role: accounts.Admin}
	var ids []string
	for i, d := range demoItems {
		it, err := lib.Create(ctx, admin, d.fields)
		if err != nil {
			return 0, err
		}
		if _, err := addFile(ctx, docs, lib, admin, it.ID, d.fields.Title+".png", "picture.png", "image/png", picture(d.hue, i)); err != nil {
			return 0, err
		}
		if err := publish(ctx, lib, admin, it.ID); err != nil {
			return 0, err
		}
		ids = append(ids, it.ID)
	}
	if _, err := cols.Create(ctx, admin, collections.Input{Title: "石嘴山工业记忆", Unit: "szs", Featured: true,
		Description: "煤城石嘴山的工业遗产：洗煤厂、矿区与建设者。", Items: ids[1:3]}); err != nil {
		return 0, err
	}
	marker.Items = ids
	if _, err := docs.Put(ctx, markerKey, marker, docstore.Create()); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// addFile stores data as a file of item, the way a finished upload is attached.
func addFile(ctx context.Context, docs *docstore.Store, lib *library.Service, admin accounts.Account, item, name, safeName, mediaType string,
	data []byte) (library.File, error) {
	key := "uploads/staging/demo/" + item + "-" + safeName
	objects := docs.Objects().Long()
	if _, err := objects.PutBytes(ctx, key, data, storage.PutOptions{ContentType: mediaType}); err != nil {
		return library.File{}, err
	}
	// The staging copy goes with every version: it must not linger as a noncurrent one.
	defer func() { _ = objects.Purge(context.WithoutCancel(ctx), key) }()
	s256, s512 := sha256.Sum256(data), sha512.Sum512(data)
	_, f, err := lib.AddFile(ctx, admin, item, "", library.Upload{Key: key, Name: name, SafeName: safeName, MediaType: mediaType,
		Size: int64(len(data)), SHA256: hex.EncodeToString(s256[:]), SHA512: hex.EncodeToString(s512[:])})
	return f, err
}

// reviewers approve the demo data: named accounts, not the loader, so that the demo shows
// content published the way real content is (先审后发), with two of them for units that ask
// for two levels.
var reviewers = []accounts.Account{{Name: "demo-reviewer", Role: accounts.Admin}, {Name: "demo-reviewer-2", Role: accounts.Admin}}

// approveAll has the demo reviewers approve a submission until its unit's policy publishes it.
func approveAll(approve func(reviewer accounts.Account) (library.Status, error)) error {
	for _, r := range reviewers {
		st, err := approve(r)
		if err != nil || st == library.Published {
			return err
		}
	}
	return errors.New("demo: the reviewers could not publish a submission")
}

// publish takes a demo item through review to published.
func publish(ctx context.Context, lib *library.Service, admin accounts.Account, item string) error {
	if _, err := lib.Move(ctx, admin, item, "", library.InReview); err != nil {
		return err
	}
	return approveAll(func(r accounts.Account) (library.Status, error) {
		it, err := lib.Review(ctx, r, item, "", review.Decision{Approve: true})
		return it.Status, err
	})
}

// picture draws a 640×426 landscape-like gradient in a hue, so each demo item looks different.
func picture(hue float64, seed int) []byte {
	const w, h = 640, 426
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := 0.35 + 0.5*float64(y)/h + 0.1*math.Sin(float64(x+seed*37)/40)
			r, g, b := hsv(hue, 0.55, math.Min(v, 1))
			img.Set(x, y, color.RGBA{r, g, b, 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func hsv(h, s, v float64) (uint8, uint8, uint8) {
	i := math.Floor(h * 6)
	f := h*6 - i
	p, q, t := v*(1-s), v*(1-f*s), v*(1-(1-f)*s)
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return uint8(r * 255), uint8(g * 255), uint8(b * 255)
}
