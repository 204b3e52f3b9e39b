package server

import (
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/problem"
	"github.com/shizuishan/culturecloud/internal/web"
)

func (s *Server) routes() {
	e := s.engine
	e.Use(requestID, s.recovery, s.metrics.middleware, accessLog(s.log), s.securityHeaders(s.uploadOrigin()),
		limitBody(s.Config.HTTP.MaxBodyBytes))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsAllowed, gin.WrapH(promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})))
	e.GET("/api/openapi.json", s.openAPI)

	e.Group("/static", staticCache).StaticFS("/", http.FS(web.Static()))
	e.GET("/favicon.ico", favicon)
	e.GET("/vendor/:file", s.vendorFile(web.FindVendor(s.Config.HTTP.VendorDir)))

	api := e.Group("/api/v1")
	api.POST("/auth/login", s.login)
	api.POST("/auth/register", s.register)
	api.POST("/auth/password-reset", s.requestReset)
	api.POST("/auth/password-reset/confirm", s.confirmReset)
	api.GET("/certificates/:serial", s.verifyCertificate)
	api.GET("/units", s.listUnits)
	api.GET("/vocabulary", s.vocabulary)
	api.GET("/items", s.searchItems)
	api.GET("/items/:id", s.getItem)
	api.GET("/items/:id/files/*path", s.itemFile)
	api.GET("/items/:id/stats", s.itemStats)
	api.GET("/items/:id/derivatives", s.itemDerivatives)
	api.GET("/items/:id/derivatives/:sha/:name", s.derivativeFile)
	api.GET("/items/:id/media", s.itemMedia)
	api.GET("/items/:id/media/:sha/*name", s.mediaFile)
	api.GET("/items/:id/captions/:sha/:lang", s.itemCaptions(s.Captions))
	api.POST("/items/:id/views", s.recordView)
	api.GET("/trending", s.trending)
	api.GET("/collections", s.listCollections)
	api.GET("/collections/:id", s.getCollection)
	api.GET("/courses", s.searchCourses)
	api.GET("/courses/:id", s.getCourse)
	api.POST("/courses/:id/lessons/:n/plays", s.countPlay)
	api.GET("/courses/:id/stats", s.courseStatsAPI)

	api.GET("/lectures", s.listLectures)
	api.GET("/lectures/:id", s.getLecture)
	api.GET("/lectures/:id/stats", s.lectureStats)
	api.GET("/lectures/:id/chat", s.chatEvents)
	api.POST("/lectures/:id/whip", s.whipPublish)
	api.DELETE("/lectures/:id/whip/:session", s.whipEnd)
	api.PATCH("/lectures/:id/whip/:session", s.trickle)
	api.POST("/lectures/:id/whep", s.whepWatch)
	api.DELETE("/lectures/:id/whep/:session", s.whepEnd)
	api.PATCH("/lectures/:id/whep/:session", s.trickle)
	api.POST("/lectures/:id/whep/:session/layer", s.whepLayer)
	api.GET("/ice-servers", s.getICEServers)

	user := api.Group("", s.requireAccount)
	user.POST("/auth/logout", s.logout)
	user.GET("/me", s.me)
	user.POST("/me/password", s.changePassword)
	user.GET("/me/tokens", s.listTokens)
	user.POST("/me/tokens", s.createToken)
	user.DELETE("/me/tokens/:id", s.revokeToken)

	staff := user.Group("", s.requireRole(accounts.Admin, accounts.Librarian, accounts.Lecturer))
	staff.GET("/accounts", s.searchAccounts)
	staff.GET("/accounts/:name", s.getAccount)

	// Lecturers keep their lesson recordings as items of their unit, so they edit items too.
	librarians := user.Group("", s.requireRole(accounts.Admin, accounts.Librarian, accounts.Lecturer))
	librarians.POST("/items", s.createItem)
	librarians.PUT("/items/:id", s.updateItem)
	librarians.POST("/items/:id/status", s.moveItem)
	librarians.POST("/items/status", s.moveItems)
	librarians.POST("/items/:id/review", s.reviewItem)
	librarians.GET("/review/queue", s.reviewQueue)
	librarians.POST("/items/:id/restore", s.restoreItem)
	librarians.GET("/items/:id/history", s.itemHistory)
	librarians.GET("/items/:id/fixity", s.itemFixity)
	librarians.GET("/items/:id/versions/:version", s.itemVersion)
	librarians.DELETE("/items/:id/files/*path", s.removeItemFile)
	librarians.POST("/items/:id/files", s.attachFile)
	librarians.PUT("/items/:id/captions/:sha/:lang", s.putCaptions(s.Captions))
	librarians.GET("/staff/items", s.staffItems)
	librarians.POST("/items/:id/derivatives/retry", s.retryDerivatives)
	librarians.POST("/collections", s.createCollection)
	librarians.PUT("/collections/:id", s.updateCollection)
	librarians.POST("/uploads", s.createUpload)
	librarians.GET("/uploads/:id", s.getUpload)
	librarians.POST("/uploads/:id/urls", s.partURLs)
	librarians.DELETE("/uploads/:id", s.abortUpload)
	user.GET("/jobs/:id", s.getJob)
	user.GET("/me/learning", s.myLearning)
	user.POST("/courses/:id/enrol", s.enrol)
	user.GET("/courses/:id/progress", s.courseProgress)
	user.PUT("/courses/:id/lessons/:n/progress", s.saveProgress)
	user.GET("/courses/:id/certificate", s.certificate)

	teachers := user.Group("", s.requireRole(accounts.Admin, accounts.Lecturer, accounts.Librarian))
	teachers.POST("/courses", s.createCourse)
	teachers.PUT("/courses/:id", s.updateCourse)
	teachers.POST("/courses/:id/status", s.moveCourse)
	teachers.POST("/courses/:id/review", s.reviewCourse)
	teachers.POST("/lectures", s.createLecture)
	teachers.PUT("/lectures/:id", s.updateLecture)
	teachers.POST("/lectures/:id/cancel", s.cancelLecture)
	teachers.POST("/lectures/:id/key", s.rotateKey)
	teachers.POST("/lectures/:id/end", s.endLecture)
	user.POST("/lectures/:id/chat", s.postChat)
	user.DELETE("/lectures/:id/chat/:msg", s.deleteChat)
	user.POST("/lectures/:id/chat/:msg/answered", s.answerQuestion)
	user.POST("/lectures/:id/mutes", s.muteUser)
	user.DELETE("/lectures/:id/mutes/:author", s.unmuteUser)

	admin := user.Group("", s.requireRole(accounts.Admin))
	admin.POST("/accounts", s.createAccount)
	admin.PATCH("/accounts/:name", s.updateAccount)
	admin.POST("/units", s.createUnit)
	admin.PATCH("/units/:id", s.renameUnit)

	pages := e.Group("", s.pageLang)
	pages.GET("/", s.page("home"))
	pages.GET("/login", s.page("login"))
	pages.GET("/register", s.page("register"))
	s.accountPages(pages)
	pages.GET("/admin/users", s.pageFor("admin_users", accounts.Admin))
	pages.GET("/admin/units", s.pageFor("admin_units", accounts.Admin))
	s.libraryPages(pages)
	s.coursePages(pages)
	s.lecturePages(pages)

	e.NoRoute(s.pageLang, s.notFound)
	e.NoMethod(func(c *gin.Context) { s.abort(c, problem.MethodNotAllowed, c.Request.Method) })
}

// uploadOrigin is the origin of the storage that browsers upload parts to.
func (s *Server) uploadOrigin() string {
	scheme := "http://"
	if s.Config.MinIO.UseTLS {
		scheme = "https://"
	}
	return scheme + s.Config.MinIO.Endpoint
}

// vendorFile serves the browser libraries that deploy/install.sh builds (hls.js). They
// are not part of the binary; without them the players fall back to the browser's own HLS.
func (s *Server) vendorFile(dir string) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := c.Param("file")
		if dir == "" || !slices.Contains(web.VendorFiles(), name) {
			s.notFound(c)
			return
		}
		c.Header("Cache-Control", "public, max-age=86400")
		c.File(filepath.Join(dir, name))
	}
}

// staticCache lets browsers keep the embedded files: a versioned URL (?v=content hash, as
// the pages write them) never changes, so it is immutable; a bare one is kept for an hour.
func staticCache(c *gin.Context) {
	if c.Query("v") != "" {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "public, max-age=3600")
	}
}

// favicon answers the request browsers make by themselves with the site's SVG icon, so
// that it is neither a 404 in the logs nor a second icon to keep in step.
func favicon(c *gin.Context) {
	b, err := fs.ReadFile(web.Static(), "favicon.svg")
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/svg+xml", b)
}
