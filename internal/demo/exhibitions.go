package demo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/exhibitions"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/review"
)

const exhibitionsMarkerKey = "records/demo/exhibitions.json"

// LoadExhibitions publishes the demo exhibition 石嘴山工业记忆 the first time a data folder is
// used: two rooms of the demo library's pictures, one with a detail region and an audio guide
// (a generated tone with its transcript), and a panorama room, a generated 720° photo of a
// hall whose pictures are hotspots. It needs the demo library (LoadLibrary) first.
func LoadExhibitions(ctx context.Context, docs *docstore.Store, lib *library.Service, svc *exhibitions.Service) (string, error) {
	var marker struct{ Exhibition string }
	if _, err := docs.Get(ctx, exhibitionsMarkerKey, &marker); err == nil {
		return "", nil
	} else if !errors.Is(err, docstore.ErrNotFound) {
		return "", err
	}
	var items struct{ Items []string }
	if _, err := docs.Get(ctx, markerKey, &items); err != nil || len(items.Items) < 3 {
		return "", fmt.Errorf("demo exhibition: the demo library is not loaded (%w)", err)
	}
	admin := accounts.Account{Name: "demo-loader", Role: accounts.Admin}
	guide, err := lib.Create(ctx, admin, library.Fields{Title: "洗煤厂老工人口述（节选）", Type: "Sound", Theme: "industrial",
		Unit: "dwk-library", Licence: "cc-by-4.0", Language: "zh", Creator: []string{"大武口区图书馆"},
		Description: "一位洗煤厂老工人回忆六十年代的夜班。",
		Transcript:  "那时候洗煤厂三班倒，夜班的灯一直亮到天明。煤从石炭井运下来，洗干净再装车，送到全国各地。"})
	if err != nil {
		return "", err
	}
	if _, err := addFile(ctx, docs, lib, admin, guide.ID, "口述节选.wav", "oral-history.wav", "audio/wav", tone(3*time.Second)); err != nil {
		return "", err
	}
	if err := publish(ctx, lib, admin, guide.ID); err != nil {
		return "", err
	}
	washery, mine, migrants := items.Items[1], items.Items[2], items.Items[0]
	hall, err := lib.Create(ctx, admin, library.Fields{Title: "石嘴山工业记忆展厅全景", Type: "StillImage", Theme: "industrial",
		Unit: "dwk-library", Licence: "cc-by-4.0", Language: "zh", Creator: []string{"大武口区图书馆"},
		Description: "展厅的 720° 全景照片（等距柱状投影，演示用的生成图像）。",
		AltText:     "一间方形展厅：木地板，米色墙面，墙上挂着橙色、蓝色和绿色的画框。"})
	if err != nil {
		return "", err
	}
	if _, err := addFile(ctx, docs, lib, admin, hall.ID, "展厅全景.jpg", "hall-720.jpg", "image/jpeg", hallScene(4096)); err != nil {
		return "", err
	}
	if err := publish(ctx, lib, admin, hall.ID); err != nil {
		return "", err
	}
	in := exhibitions.Input{Title: "石嘴山工业记忆", Subtitle: "煤城六十年", Curator: "王馆员（大武口区图书馆）", Unit: "dwk-library",
		Theme: "industrial", Cover: &exhibitions.FileRef{Item: washery}, Opens: "2026-01-01", Permanent: true,
		Introduction: "石嘴山因煤而建、因煤而兴。从大武口洗煤厂到石炭井矿区，这个展览用馆藏老照片讲述一座煤城的六十年。",
		Sections: []exhibitions.Section{
			{Title: "第一展厅：洗煤厂", Intro: "洗煤厂是煤城的心脏。", Exhibits: []exhibitions.Exhibit{
				{FileRef: exhibitions.FileRef{Item: washery}, Label: "大武口洗煤厂旧影", AudioGuide: guide.ID,
					TextZH: "1975 年的大武口洗煤厂。厂房沿铁路展开，原煤在这里洗选后装车外运。",
					TextEN: "The Dawukou coal washery in 1975: raw coal was washed here and loaded onto trains."},
				{FileRef: exhibitions.FileRef{Item: washery}, Region: &exhibitions.Region{X: 320, Y: 120, W: 240, H: 160},
					Label: "细部：厂房与铁路", TextZH: "放大看厂房一角：铁路专用线直通车间。"},
			}},
			{Title: "第二展厅：矿区与建设者", Intro: "矿区的街道，和从全国各地来到这里的建设者。", Exhibits: []exhibitions.Exhibit{
				{FileRef: exhibitions.FileRef{Item: mine}, Label: "石炭井矿区街景", TextZH: "1965 年的石炭井矿区，职工宿舍沿山而建。"},
				{FileRef: exhibitions.FileRef{Item: migrants}, Label: "支宁青年合影", TextZH: "上海支宁青年来到石嘴山，成为煤城的第一代建设者。",
					TextEN: "Young people from Shanghai who came to build Ningxia."},
			}},
			{Title: "展厅全景 / The hall in 720°", Kind: exhibitions.Panorama, Intro: "环顾展厅，点击墙上的画框查看展品。",
				Scene: &exhibitions.FileRef{Item: hall.ID}, Exhibits: []exhibitions.Exhibit{
					{FileRef: exhibitions.FileRef{Item: washery}, Label: "展厅西墙：洗煤厂", TextZH: "挂在展厅西墙上的洗煤厂老照片。"},
					{FileRef: exhibitions.FileRef{Item: mine}, Label: "展厅北墙：石炭井", TextZH: "挂在展厅北墙上的石炭井矿区照片。"},
				},
				Hotspots: []exhibitions.Hotspot{{Exhibit: 0, Yaw: hallPanels[0].Yaw, Pitch: hallPanels[0].Pitch},
					{Exhibit: 1, Yaw: hallPanels[1].Yaw, Pitch: hallPanels[1].Pitch}}},
		}}
	e, err := svc.Create(ctx, admin, in)
	if err != nil {
		return "", err
	}
	if e, err = svc.Move(ctx, admin, e.ID, e.Version, library.InReview); err != nil {
		return "", err
	}
	for _, r := range reviewers {
		if e, err = svc.Review(ctx, r, e.ID, e.Version, review.Decision{Approve: true}); err != nil {
			return "", err
		}
		if e.Status == library.Published {
			break
		}
	}
	marker.Exhibition = e.ID
	if _, err := docs.Put(ctx, exhibitionsMarkerKey, marker, docstore.Create()); err != nil {
		return "", err
	}
	return e.ID, nil
}

// tone is a quiet 440 Hz WAV of length d (8 kHz, 16-bit mono): an audio guide to play
// without downloading anything.
func tone(d time.Duration) []byte {
	const rate = 8000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		_ = binary.Write(&b, le, v) // PCM, mono, rate, byte rate, block size, bits
	}
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(2*n))
	for i := range n {
		_ = binary.Write(&b, le, int16(3000*math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}
