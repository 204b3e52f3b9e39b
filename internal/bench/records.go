package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/configs"
	"github.com/shizuishan/culturecloud/internal/indexer"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/search"
)

// The generated records draw on the vocabulary of the Shizuishan Memory (GLOSSARY.md): real
// places, the eight themes with their subjects, the kinds of things a library keeps.

type theme struct {
	id       string
	subjects []string
}

var themes = []theme{
	{"yellow-river", []string{"黄河", "黄河渡口", "引黄灌溉", "羊皮筏子", "黄河湿地"}},
	{"migrant", []string{"支宁", "上海知青", "移民", "支宁青年", "家书往来"}},
	{"industrial", []string{"煤矿", "石炭井", "大武口洗煤厂", "矿工", "工业遗址"}},
	{"red", []string{"红色文化", "革命旧址", "英雄事迹", "纪念馆"}},
	{"intangible", []string{"泥哇呜", "葫芦烫画", "剪纸", "宁夏花儿", "黄渠桥爆炒羊羔肉"}},
	{"history", []string{"贺兰山岩画", "明长城", "古城遗址", "地方志"}},
	{"tourism", []string{"沙湖", "华夏奇石山", "星海湖", "文旅融合"}},
	{"folk-art", []string{"社火", "皮影", "刺绣", "秧歌", "书法", "戏曲", "摄影"}},
}

var types = []struct {
	id, format string
}{
	{"StillImage", "image/jpeg"}, {"Text", "application/pdf"}, {"Sound", "audio/mpeg"},
	{"MovingImage", "video/mp4"}, {"PhysicalObject", "image/jpeg"}, {"Collection", ""}, {"InteractiveResource", ""},
}

// benchUnits are the libraries and culture centres of configs/units.yaml.
var benchUnits = []struct {
	id, district, name string
}{
	{"szs-library", "", "石嘴山市图书馆"}, {"szs-culture-centre", "", "石嘴山市文化馆"},
	{"dwk-library", "dwk", "大武口区图书馆"}, {"dwk-culture-centre", "dwk", "大武口区文化馆"},
	{"dwk-changsheng-station", "dwk", "长胜综合文化站"},
	{"hn-library", "hn", "惠农区图书馆"}, {"hn-culture-centre", "hn", "惠农区文化馆"},
	{"hn-hongguozi-station", "hn", "红果子综合文化站"},
	{"pl-library", "pl", "平罗县图书馆"}, {"pl-culture-centre", "pl", "平罗县文化馆"},
	{"pl-huangquqiao-station", "pl", "黄渠桥综合文化站"}, {"pl-huangquqiao-bookroom", "pl", "黄渠桥农家书屋"},
}

var (
	places  = []string{"石嘴山", "大武口", "惠农", "平罗", "石炭井", "沙湖", "贺兰山", "黄渠桥", "红果子", "长胜", "星海湖", "简泉"}
	things  = []string{"老照片", "口述史", "档案", "手稿", "录音", "影像", "地图", "报纸", "工作证", "票证", "家书", "日记", "海报", "节目单", "奖状", "画册"}
	aspects = []string{"历史变迁", "生产生活", "传承与发展", "珍贵瞬间", "日常场景", "技艺流程", "节庆活动", "人物故事"}
	events  = []string{"文化大篷车", "广场文化艺术节", "舞动石嘴山", "我为乡亲送戏来", "市民文化艺术节", "戏曲进校园", "残疾人文化周"}
	moods   = []string{"早期", "珍贵", "完整", "罕见", "难得", "鲜活"}
	family  = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "马", "郭"}
	given   = []string{"建国", "秀英", "红梅", "志强", "海燕", "卫东", "淑珍", "国庆", "丽华", "建华", "玉兰", "振华"}
	rights  = []string{"cc-by-4.0", "cc-by-nc-4.0", "cc0-1.0", "public-domain", "in-copyright"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func person(r *rand.Rand) string { return pick(r, family) + pick(r, given) }

// seedUnits is the organisation tree of configs/units.yaml, which the generated records'
// units belong to.
var seedUnits = sync.OnceValues(func() (units.Tree, error) { return units.ParseSeed(configs.Units) })

// records returns documents from..to-1 of a fixed, reproducible set, made by the indexer's own
// document builder (indexer.ItemDoc) from generated items, so that the bench indexes and
// searches documents of the real size and shape.
func records(from, to int) []search.ItemDoc {
	tree, err := seedUnits()
	if err != nil {
		panic(err) // configs/units.yaml is embedded and checked by its own tests
	}
	docs := make([]search.ItemDoc, 0, to-from)
	now := time.Now()
	for i := from; i < to; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 0x5a5))
		th := pick(r, themes)
		ty := pick(r, types)
		u := pick(r, benchUnits)
		place, subject, thing := pick(r, places), pick(r, th.subjects), pick(r, things)
		year := 1950 + r.IntN(72)
		span := r.IntN(8)
		title := place + subject + thing
		if r.IntN(3) == 0 {
			title += "（" + strconv.Itoa(year) + "年）"
		}
		creator := []string{person(r)}
		subjects := []string{subject, pick(r, th.subjects)}
		tags := []string{pick(r, moods) + thing, pick(r, aspects)}
		desc := fmt.Sprintf("这是%d年前后%s一带的%s%s，记录了%s的%s。%s口述，%s整理，由%s收藏并在%s活动中展出。",
			year, place, pick(r, moods), thing, subject, pick(r, aspects), person(r), creator[0], u.name, pick(r, events))
		published := now.Add(-time.Duration(r.Int64N(5*365*86400)) * time.Second)
		it := library.Item{ID: fmt.Sprintf("bench-%07d", i), Status: library.Published, PublishedAt: &published, UpdatedAt: published,
			Fields: library.Fields{Title: title, Description: desc, Creator: creator, Subject: subjects, Tags: tags,
				Place: library.Place{Name: place}, Type: ty.id, Theme: th.id, Unit: u.id, Period: fmt.Sprintf("%d-%d", year, year+span),
				Licence: pick(r, rights)}}
		if ty.format != "" {
			it.Files = []library.File{{Path: "files/original", MediaType: ty.format}}
		}
		docs = append(docs, indexer.ItemDoc(it, &tree, r.Int64N(5000)))
	}
	return docs
}
