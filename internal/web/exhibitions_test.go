package web

import "testing"

// TestExhibitionScriptTexts: every data-t-* attribute exhibitions.js reads is set by a
// template from the catalogue.
func TestExhibitionScriptTexts(t *testing.T) {
	checkScriptTexts(t, "exhibitions.js", 15)
}

// TestPanoramaScriptTexts: the same for panorama.js.
func TestPanoramaScriptTexts(t *testing.T) {
	checkScriptTexts(t, "panorama.js", 1)
}

// TestTourScriptTexts: likewise for tour.js, the guided tours' follow switch and guide mode.
func TestTourScriptTexts(t *testing.T) {
	checkScriptTexts(t, "tour.js", 5)
}
