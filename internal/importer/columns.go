package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/i18n"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

// column is one documented CSV column: its key (the English name) and its Chinese name.
type column struct{ key, zh string }

// columns is the documented header, in the order of docs/import.md.
var columns = []column{
	{"title", "标题"}, {"creator", "创建者"}, {"subject", "主题词"}, {"description", "描述"},
	{"publisher", "出版者"}, {"contributor", "贡献者"}, {"date", "日期"}, {"type", "类型"},
	{"format", "格式"}, {"identifier", "标识符"}, {"source", "来源"}, {"language", "语种"},
	{"relation", "关联"}, {"coverage", "覆盖范围"}, {"rights", "权利"}, {"theme", "专题"},
	{"unit", "单位"}, {"place", "地点"}, {"lat", "纬度"}, {"lon", "经度"}, {"period", "年代"},
	{"licence", "许可"}, {"tags", "标签"}, {"alt_text", "替代文本"}, {"transcript", "文字稿"},
	{"files", "文件"}, {"status", "状态"},
}

// required are the columns without which no row can be valid.
var required = []string{"title", "type", "theme", "unit", "licence"}

// header maps the cells of a row to columns.
type header struct {
	keys  []string       // column key of each cell
	names []string       // the name as written in the file
	index map[string]int // key → cell
	lang  i18n.Lang      // the language of the header, used for reasons
}

// lookupColumn finds the key of a header cell: the Chinese name, or the English name in any case.
func lookupColumn(name string) (string, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "license" {
		n = "licence"
	}
	for _, c := range columns {
		if n == c.key || n == c.zh {
			return c.key, true
		}
	}
	return "", false
}

// parseHeader reads the first row. Unknown, repeated and missing required columns are errors
// that name them.
func parseHeader(cells []string) (*header, error) {
	h := &header{index: map[string]int{}}
	var unknown, repeated []string
	chinese := 0
	for i, raw := range cells {
		name := strings.TrimSpace(raw)
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		key, ok := lookupColumn(name)
		switch {
		case !ok && name == "" && i == len(cells)-1 && i > 0:
			key = "" // a trailing empty cell, as spreadsheets sometimes write: ignored if empty
		case !ok:
			unknown = append(unknown, strconv.Quote(name))
		case h.has(key):
			repeated = append(repeated, name)
		default:
			h.index[key] = i
			if name == zhName(key) {
				chinese++
			}
		}
		h.keys = append(h.keys, key)
		h.names = append(h.names, name)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown columns 未知的列: %s (see docs/import.md)", strings.Join(unknown, ", "))
	}
	if len(repeated) > 0 {
		return nil, fmt.Errorf("columns given twice 重复的列: %s", strings.Join(repeated, ", "))
	}
	var missing []string
	for _, k := range required {
		if _, ok := h.index[k]; !ok {
			missing = append(missing, k+"/"+zhName(k))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing required columns 缺少必需的列: %s", strings.Join(missing, ", "))
	}
	h.lang = i18n.EN
	if chinese*2 >= len(h.index) {
		h.lang = i18n.ZH
	}
	return h, nil
}

func (h *header) has(key string) bool {
	_, ok := h.index[key]
	return ok
}

func zhName(key string) string {
	for _, c := range columns {
		if c.key == key {
			return c.zh
		}
	}
	return key
}

// name is how reasons call the column key: as written in the file, or in the header's
// language when the file has no such column.
func (h *header) name(key string) string {
	if i, ok := h.index[key]; ok {
		return h.names[i]
	}
	if h.lang == i18n.ZH {
		return zhName(key)
	}
	return key
}

// cellError is one problem of a row, always tied to a column.
type cellError struct {
	Column  string // as written in the header
	Message string
}

// cellErrors are every problem of one row.
type cellErrors []cellError

func (e cellErrors) Error() string {
	parts := make([]string, len(e))
	for i, c := range e {
		parts[i] = c.Column + ": " + c.Message
	}
	return strings.Join(parts, "; ")
}

// row is a parsed CSV row.
type row struct {
	Num    int
	Fields library.Fields
	Status library.Status
	Files  []string // paths relative to the import folder, cleaned
}

// parser turns CSV records into rows; it touches no storage.
type parser struct {
	h     *header
	vocab *library.Vocabulary
	tree  *units.Tree
	actor accounts.Account
	now   time.Time
}

// splitList splits a list cell on ";" or "；".
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' })
}

// parse reads one record (num is its row number, the header being row 1) and validates it
// completely, so that nothing is written for a row that cannot go in.
func (p *parser) parse(num int, rec []string) (row, error) {
	r := row{Num: num, Status: library.Draft}
	var errs cellErrors
	add := func(key, msg string) { errs = append(errs, cellError{p.h.name(key), msg}) }
	msg := func(zh, en string) string {
		if p.h.lang == i18n.ZH {
			return zh
		}
		return en
	}
	var c coords
	f := &r.Fields
	for i, cell := range rec {
		if i >= len(p.h.keys) || p.h.keys[i] == "" {
			if strings.TrimSpace(cell) != "" {
				errs = append(errs, cellError{fmt.Sprintf("#%d", i+1), msg("此列没有列名", "this column has no header")})
			}
			continue
		}
		p.cell(&r, &c, p.h.keys[i], cell, add, msg)
	}
	f.Normalize()
	coord := func(key, v string, limit float64) *float64 {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < -limit || x > limit {
			add(key, fmt.Sprintf(msg("%q 不是 -%g 到 %g 之间的数", "%q is not a number from -%g to %g"), v, limit, limit))
			return nil
		}
		return &x
	}
	f.Place.Lat, f.Place.Lon = coord("lat", c.lat, 90), coord("lon", c.lon, 180)
	v := p.vocab
	for _, t := range []struct {
		key   string
		value *string
		list  []library.Term
	}{{"type", &f.Type, v.Types}, {"theme", &f.Theme, v.Themes}, {"licence", &f.Licence, v.Licences}, {"language", &f.Language, v.Languages}} {
		if *t.value == "" {
			continue
		}
		id, ok := findTerm(t.list, *t.value)
		if !ok {
			add(t.key, fmt.Sprintf(msg("%q 不是受控词表中的词（可用：%s）", "%q is not a term of the controlled vocabulary (use: %s)"), *t.value, termIDs(t.list)))
			*t.value = "" // reported here; Validate would only repeat it
			continue
		}
		*t.value = id
	}
	if f.Unit != "" {
		id, ok := findUnit(p.tree, f.Unit)
		if !ok {
			add("unit", fmt.Sprintf(msg("%q 不是已知的单位", "%q is not a known unit"), f.Unit))
		} else if f.Unit = id; !library.CanEdit(p.actor, id, p.tree) {
			add("unit", fmt.Sprintf(msg("%q 超出 %s 的管理范围", "%q is outside the units %s manages"), id, p.actor.Name))
		}
	}
	if err := f.Validate(p.vocab, p.tree, p.now); err != nil {
		var verrs validate.Errors
		if !errors.As(err, &verrs) {
			verrs = validate.Errors{{Field: "title", Code: "text"}}
		}
		for _, pr := range verrs {
			key := fieldColumn(pr.Field)
			if reported(errs, p.h.name(key)) {
				continue // the vocabulary, unit and coordinate checks above said it better
			}
			add(key, problemText(p.h.lang, pr, *f))
		}
	}
	if len(errs) > 0 {
		return row{}, errs
	}
	return r, nil
}

// coords are a row's coordinates as written, checked once the whole row is read.
type coords struct{ lat, lon string }

// cell puts the text of one cell, of the column key, into r (coordinates into c); what it
// cannot take it reports through add, in the words msg picks.
func (p *parser) cell(r *row, c *coords, key, cell string, add func(key, msg string), msg func(zh, en string) string) {
	f := &r.Fields
	switch key {
	case "title":
		f.Title = cell
	case "creator":
		f.Creator = splitList(cell)
	case "subject":
		f.Subject = splitList(cell)
	case "description":
		f.Description = cell
	case "publisher":
		f.Publisher = cell
	case "contributor":
		f.Contributor = splitList(cell)
	case "date":
		f.Date = cell
	case "type":
		f.Type = cell
	case "format":
		f.Format = cell
	case "identifier":
		f.Identifier = cell
	case "source":
		f.Source = cell
	case "language":
		f.Language = cell
	case "relation":
		f.Relation = cell
	case "coverage":
		f.Coverage = cell
	case "rights":
		f.Rights = cell
	case "theme":
		f.Theme = cell
	case "unit":
		f.Unit = cell
	case "place":
		f.Place.Name = cell
	case "lat":
		c.lat = cell
	case "lon":
		c.lon = cell
	case "period":
		f.Period = cell
	case "licence":
		f.Licence = cell
	case "tags":
		f.Tags = splitList(cell)
	case "alt_text":
		f.AltText = cell
	case "transcript":
		f.Transcript = cell
	case "files":
		for _, name := range splitList(cell) {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			clean, ok := relPath(name)
			if !ok {
				add("files", fmt.Sprintf(msg("%q 必须是导入文件夹内的相对路径", "%q must be a path inside the import folder"), name))
				continue
			}
			r.Files = append(r.Files, clean)
		}
	case "status":
		s, ok := parseStatus(cell)
		if !ok {
			add("status", fmt.Sprintf(msg("%q 不是 draft、in_review 或 published", "%q is not draft, in_review or published"), strings.TrimSpace(cell)))
		}
		r.Status = s
	}
}

func reported(errs cellErrors, col string) bool {
	for _, e := range errs {
		if e.Column == col {
			return true
		}
	}
	return false
}

// fieldColumn maps a field named by library.Fields.Validate to its column key.
func fieldColumn(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	switch field {
	case "place.name":
		return "place"
	case "place":
		return "lat"
	}
	return field
}

// problemText words a validation problem, quoting the value when it helps.
func problemText(lang i18n.Lang, p validate.Problem, f library.Fields) string {
	text := i18n.T(lang, "field."+p.Code, p.Args...)
	switch p.Field {
	case "date":
		return strconv.Quote(f.Date) + " " + text
	case "period":
		return strconv.Quote(f.Period) + " " + text
	}
	return text
}

// findTerm accepts a term's id, Chinese label or English label (ids and English in any case).
func findTerm(list []library.Term, v string) (string, bool) {
	for _, t := range list {
		if v == t.ID || v == t.ZH || strings.EqualFold(v, t.ID) || strings.EqualFold(v, t.EN) {
			return t.ID, true
		}
	}
	return "", false
}

func termIDs(list []library.Term) string {
	ids := make([]string, len(list))
	for i, t := range list {
		ids[i] = t.ID
	}
	return strings.Join(ids, ", ")
}

// findUnit accepts a unit's id, Chinese name or English name.
func findUnit(tree *units.Tree, v string) (string, bool) {
	for _, u := range tree.Units {
		if v == u.ID || v == u.NameZH || strings.EqualFold(v, u.NameEN) {
			return u.ID, true
		}
	}
	return "", false
}

// parseStatus reads the wanted workflow status; empty means draft.
func parseStatus(s string) (library.Status, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "draft", "草稿":
		return library.Draft, true
	case "in_review", "in review", "待审核", "审核中":
		return library.InReview, true
	case "published", "已发布", "发布":
		return library.Published, true
	}
	return library.Draft, false
}

// relPath cleans a path relative to the import folder ("\" is taken as a separator, for files
// written on Windows); absolute paths and paths that climb out of the folder are refused.
func relPath(name string) (string, bool) {
	p := strings.ReplaceAll(strings.TrimSpace(name), `\`, "/")
	if p == "" || strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':') || strings.ContainsRune(p, 0) {
		return "", false
	}
	p = path.Clean(p)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

// contentKey identifies a row without files: the SHA-256 of its normalised fields.
func contentKey(f library.Fields) string {
	data, _ := json.Marshal(f) // Fields always encode
	return sha256Hex(append([]byte("row\n"), data...))
}
