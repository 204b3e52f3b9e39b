package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
)

// apiScenario is one request of a scenario test and what its answer must be, in the style of
// PocketBase's ApiScenario: the table says what is asked and what must come back, and
// runScenarios does the asking, so a long scenario reads as its list of steps.
type apiScenario struct {
	name    string
	client  *client
	method  string
	path    string
	body    any
	headers []string
	status  int
	// problem: the answer must be RFC 9457 problem JSON.
	problem bool
	// bodyHas and bodyLacks are texts the answer's body must and must not contain.
	bodyHas, bodyLacks []string
	// headersSet are headers the answer must carry.
	headersSet []string
	// check is for what the fields above cannot say; it may be nil.
	check func(t testing.TB, r reply)
}

// runScenarios runs each step as a subtest, in order; a step that fails does not stop the
// ones after it.
func runScenarios(t *testing.T, steps []apiScenario) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.expect(t, s.client.do(s.method, s.path, s.body, s.headers...))
		})
	}
}

// expect checks the answer r against the step.
func (s apiScenario) expect(t testing.TB, r reply) {
	t.Helper()
	if r.status != s.status {
		t.Fatalf("%s %s: status %d, want %d; body %s", s.method, s.path, r.status, s.status, r.body)
		return
	}
	if s.problem {
		r.problem(t)
	}
	for _, want := range s.bodyHas {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("body lacks %q: %s", want, r.body)
		}
	}
	for _, unwanted := range s.bodyLacks {
		if bytes.Contains(r.body, []byte(unwanted)) {
			t.Errorf("body shows %q: %s", unwanted, r.body)
		}
	}
	for _, h := range s.headersSet {
		if r.header.Get(h) == "" {
			t.Errorf("answer without %s", h)
		}
	}
	if s.check != nil {
		s.check(t, r)
	}
}

// failures is a testing.TB that notes failures instead of ending the test.
type failures struct {
	testing.TB
	seen []string
}

func (f *failures) Helper() {}
func (f *failures) Errorf(format string, a ...any) {
	f.seen = append(f.seen, fmt.Sprintf(format, a...))
}
func (f *failures) Fatalf(format string, a ...any) { f.Errorf(format, a...) }

// TestScenarioExpect: every expectation of a step fails it when the answer differs, and an
// answer that meets them all passes.
func TestScenarioExpect(t *testing.T) {
	problemJSON := reply{status: http.StatusNotFound, header: http.Header{"Content-Type": {"application/problem+json"}},
		body: []byte(`{"type":"about:blank","title":"Not Found","status":404,"detail":"没有这个讲座"}`)}
	plain := reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"ice_servers":[]}`)}
	tests := []struct {
		name   string
		step   apiScenario
		answer reply
		fails  bool
	}{
		{"all met", apiScenario{status: http.StatusNotFound, problem: true, bodyHas: []string{"没有这个讲座"},
			bodyLacks: []string{"stream_key"}, headersSet: []string{"Content-Type"}}, problemJSON, false},
		{"other status", apiScenario{status: http.StatusOK}, problemJSON, true},
		{"not problem JSON", apiScenario{status: http.StatusOK, problem: true}, plain, true},
		{"body lacks a text", apiScenario{status: http.StatusOK, bodyHas: []string{"stun:"}}, plain, true},
		{"body shows a text", apiScenario{status: http.StatusOK, bodyLacks: []string{"ice_servers"}}, plain, true},
		{"header missing", apiScenario{status: http.StatusOK, headersSet: []string{"Retry-After"}}, plain, true},
		{"check fails", apiScenario{status: http.StatusOK, check: func(t testing.TB, _ reply) { t.Errorf("no") }}, plain, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &failures{TB: t}
			tc.step.expect(f, tc.answer)
			if failed := len(f.seen) > 0; failed != tc.fails {
				t.Errorf("failed = %v (%q), want %v", failed, f.seen, tc.fails)
			}
		})
	}
}
