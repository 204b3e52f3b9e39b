package apiclient_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/apiclient"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// session is one signed-in person using the generated client, as a browser does: a cookie
// jar, and the CSRF token of the session on every request.
type session struct {
	t    *testing.T
	api  *apiclient.ClientWithResponses
	csrf string
}

// signIn logs name in through the API's login operation.
func signIn(t *testing.T, base, name, password string) *session {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := testenv.Client()
	hc.Jar = jar
	s := &session{t: t}
	s.api, err = apiclient.NewClientWithResponses(base, apiclient.WithHTTPClient(hc),
		apiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if s.csrf != "" {
				req.Header.Set("X-CSRF-Token", s.csrf)
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.api.LoginWithResponse(t.Context(), apiclient.LoginRequest{Name: name, Password: password})
	s.check("login", r, err, http.StatusOK)
	if r.JSON200 == nil || r.JSON200.CsrfToken == nil || r.JSON200.Account.Name != name {
		t.Fatalf("login of %s answered %s", name, r.Body)
	}
	s.csrf = *r.JSON200.CsrfToken
	return s
}

// answer is what every generated response has.
type answer interface {
	StatusCode() int
}

// check fails the test unless the operation answered want.
func (s *session) check(op string, r answer, err error, want int) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", op, err)
	}
	if got := r.StatusCode(); got != want {
		s.t.Fatalf("%s: status %d, want %d", op, got, want)
	}
}

// newAccount has the (admin) session create a staff account.
func (s *session) newAccount(name, password string, role apiclient.NewAccountRole, unit string) {
	s.t.Helper()
	r, err := s.api.CreateAccountWithResponse(s.t.Context(), apiclient.NewAccount{Name: name, DisplayName: name,
		Password: password, Role: role, Unit: &unit})
	s.check("createAccount "+name, r, err, http.StatusCreated)
}

// TestMainFlowsThroughGeneratedClient runs the main flows of the API through the client
// generated from /api/openapi.json, against the real server: what the document says is
// what a client built from it can do. A librarian signs in, catalogues an item and submits
// it; a second librarian approves it (先审后发), which publishes it; anyone finds it by
// search; a lecturer schedules a lecture.
func TestMainFlowsThroughGeneratedClient(t *testing.T) {
	srv := testenv.StartServer(t, testenv.Config(t, testenv.Shared(t)))
	admin := signIn(t, srv.URL, testenv.AdminName, testenv.AdminPassword)
	admin.newAccount("lib.dwk", "Dawukou-Library-9", apiclient.Librarian, "dwk")
	admin.newAccount("rev.szs", "City-Reviewer-9", apiclient.Librarian, "szs")
	admin.newAccount("lec.dwk", "Lecture-Hall-2026", apiclient.Lecturer, "dwk-culture-centre")
	librarian := signIn(t, srv.URL, "lib.dwk", "Dawukou-Library-9")
	reviewer := signIn(t, srv.URL, "rev.szs", "City-Reviewer-9")
	ctx := t.Context()

	me, err := librarian.api.GetMeWithResponse(ctx)
	librarian.check("getMe", me, err, http.StatusOK)
	if me.JSON200.Account.Role != "librarian" || me.JSON200.Account.Unit == nil || *me.JSON200.Account.Unit != "dwk" {
		t.Fatalf("me: %s", me.Body)
	}

	title := "石嘴山煤矿工人合影"
	creator := []string{"大武口区图书馆"}
	created, err := librarian.api.CreateItemWithResponse(ctx, apiclient.NewItem{Title: &title, Type: ptr("StillImage"),
		Theme: ptr("migrant"), Unit: ptr("dwk-library"), Licence: ptr("cc-by-4.0"), Creator: &creator, Period: ptr("1958-1966")})
	librarian.check("createItem", created, err, http.StatusCreated)
	item := created.JSON201
	if item.Id == "" || item.Status != "draft" {
		t.Fatalf("created item: %s", created.Body)
	}

	submitted, err := librarian.api.SetItemStatusWithResponse(ctx, item.Id, &apiclient.SetItemStatusParams{IfMatch: etag(item.Version)},
		apiclient.SetItemStatusJSONRequestBody{Status: apiclient.InReview})
	librarian.check("setItemStatus in_review", submitted, err, http.StatusOK)

	// The author cannot approve her own submission: a second person publishes it.
	self, err := librarian.api.ReviewItemWithResponse(ctx, item.Id, &apiclient.ReviewItemParams{IfMatch: etag(submitted.JSON200.Version)},
		apiclient.ReviewItemJSONRequestBody{Decision: apiclient.Approve})
	if err != nil || self.StatusCode() < 400 || self.ApplicationproblemJSON403 == nil && self.ApplicationproblemJSON422 == nil && self.ApplicationproblemJSON409 == nil {
		t.Fatalf("the author approving her own item: %v %d %s", err, self.StatusCode(), self.Body)
	}
	approved, err := reviewer.api.ReviewItemWithResponse(ctx, item.Id, &apiclient.ReviewItemParams{IfMatch: etag(submitted.JSON200.Version)},
		apiclient.ReviewItemJSONRequestBody{Decision: apiclient.Approve})
	reviewer.check("reviewItem approve", approved, err, http.StatusOK)
	if approved.JSON200.Status != "published" {
		t.Fatalf("approved item is %s, want published", approved.JSON200.Status)
	}

	anyone, err := apiclient.NewClientWithResponses(srv.URL, apiclient.WithHTTPClient(testenv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	testwait.UntilState(t, "the published item found by search", func() (bool, string) {
		res, err := anyone.SearchItemsWithResponse(ctx, &apiclient.SearchItemsParams{Q: ptr("煤矿工人")})
		if err != nil || res.JSON200 == nil {
			return false, "search failed: " + errString(err)
		}
		for _, h := range res.JSON200.Hits {
			if h.Id == item.Id {
				return h.Title == title && res.JSON200.Facets["type"]["StillImage"] >= 1, string(res.Body)
			}
		}
		return false, string(res.Body)
	})

	lecturer := signIn(t, srv.URL, "lec.dwk", "Lecture-Hall-2026")
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	lecture, err := lecturer.api.ScheduleLectureWithResponse(ctx, apiclient.ScheduleLectureJSONRequestBody{
		Title: "从煤城到山水园林城市", Unit: "dwk-culture-centre", Start: start, DurationMinutes: 60,
		Lecturer: struct {
			Account *string `json:"account,omitempty"`
			Name    *string `json:"name,omitempty"`
		}{Account: ptr("lec.dwk")},
		Visibility: ptr(apiclient.ScheduleLectureJSONBodyVisibilityPublic),
	})
	lecturer.check("scheduleLecture", lecture, err, http.StatusCreated)
	l := lecture.JSON201
	if l.State != apiclient.Scheduled || !l.Start.Equal(start) || l.StreamKey == nil || *l.StreamKey == "" {
		t.Fatalf("scheduled lecture: %s", lecture.Body)
	}
	got, err := anyone.GetLectureWithResponse(ctx, l.Id)
	lecturer.check("getLecture", got, err, http.StatusOK)
	if got.JSON200.Title != "从煤城到山水园林城市" || got.JSON200.StreamKey != nil {
		t.Fatalf("the public sees the lecture as %s", got.Body)
	}
}

// etag is the If-Match value of a record version.
func etag(version string) string { return `"` + strings.Trim(version, `"`) + `"` }

func ptr[T any](v T) *T { return &v }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
