package e2e_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// redAndBlue is a picture a screenshot can recognise: its left half red, its right half blue.
func redAndBlue(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: 210, G: 20, B: 30, A: 255}
			if x >= w/2 {
				c = color.RGBA{R: 20, G: 40, B: 200, A: 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// miradorPage is a page of another site that shows one manifest in Mirador.
const miradorPage = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Mirador</title></head>
<body style="margin:0"><div id="viewer" style="position:absolute;inset:0"></div>
<script src="/mirador.min.js"></script>
<script>window.viewer = Mirador.viewer({id: "viewer", windows: [{manifestId: %q}],
  window: {sideBarOpen: false, allowClose: false}, workspaceControlPanel: {enabled: false}});</script>
</body></html>`

// TestManifestOpensInMirador publishes an image and opens its IIIF Manifest in Mirador 4,
// served by another origin as any site embedding our collection would: Mirador reads the
// manifest, asks our image service for tiles, and the picture appears on screen.
func TestManifestOpensInMirador(t *testing.T) {
	bundle := devservices.ToolPath("mirador", "mirador.min.js")
	script, err := os.ReadFile(bundle)
	if err != nil {
		testenv.Unavailable(t, err)
	}
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	reviewer := createLecturer(t, srv.URL)
	lec := apiLogin(t, srv.URL, lecturerName, lecturerPassword)
	lec.reviewer = reviewer
	var it struct {
		ID string `json:"id"`
	}
	lec.want(http.StatusCreated, "POST", "/api/v1/items", map[string]any{"title": "惠农渠老照片", "type": "StillImage",
		"theme": "migrant", "unit": "dwk-culture-centre", "licence": "cc-by-4.0", "language": "zh"}, &it)
	lec.attachFile(it.ID, "canal.png", redAndBlue(1600, 1000))
	lec.publishItem(it.ID)
	var rec struct {
		Manifest string `json:"iiif_manifest"`
	}
	lec.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil, &rec)
	if rec.Manifest == "" {
		t.Fatal("the published item names no manifest")
	}

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mirador.min.js" {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write(script)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, miradorPage, rec.Manifest)
	}))
	t.Cleanup(site.Close)
	ctx := browser(t)
	do(t, ctx, "open Mirador", chromedp.Navigate(site.URL))
	waitJS(t, ctx, "Mirador fetched image tiles from the image service",
		`performance.getEntriesByType('resource').some(function (e) { return e.name.indexOf('/iiif/3/`+it.ID+`~') >= 0 && /\/default\.(jpg|png)$/.test(e.name) })`,
		time.Minute)
	// The picture is drawn: the screen shows both of its halves.
	var red, blue int
	deadline := time.Now().Add(time.Minute)
	for red < 2000 || blue < 2000 {
		if time.Now().After(deadline) {
			screenshot(t, ctx, "mirador.png")
			t.Fatalf("Mirador shows %d red and %d blue pixels; want the picture", red, blue)
		}
		shot := get(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		red, blue = countColours(t, shot)
	}
	waitJS(t, ctx, "Mirador's window is titled with the item", `document.body.innerText.indexOf("惠农渠老照片") >= 0`, 10*time.Second)
}

// countColours counts the screenshot's pixels near the picture's red and blue.
func countColours(t *testing.T, shot []byte) (red, blue int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case r > 170 && g < 70 && bl < 80:
				red++
			case bl > 160 && r < 70 && g < 90:
				blue++
			}
		}
	}
	return red, blue
}
