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

	// The IIIF Image API 3.0: anyone for a published item's images, readers of the item for a
	// draft's.
	e.GET("/iiif/3/:identifier", s.iiifBase)
	e.GET("/iiif/3/:identifier/info.json", s.iiifInfo)
	e.GET("/iiif/3/:identifier/:region/:size/:rotation/:file", s.iiifImage)
	// The IIIF Presentation API 3.0: published items, exhibitions, collections and themes,
	// which any site's viewer may read, refusals and limits included (never with credentials:
	// browsers refuse "*" for those).
	presentation := e.Group("/iiif", anyOrigin, s.manifestLimit)
	presentation.GET("/collection", s.libraryManifest)
	presentation.GET("/collections/:id", s.collectionManifest)
	presentation.GET("/themes/:theme", s.themeManifest)
	presentation.GET("/items/:id/manifest", s.itemManifest)
	presentation.GET("/exhibitions/:id/manifest", s.exhibitionManifest)

	// API routes, grouped by who may call them.
	anyone := e.Group("/api/v1")
	anyone.POST("/auth/login", s.login)
	anyone.POST("/auth/register", s.register)
	anyone.POST("/auth/password-reset", s.requestReset)
	anyone.POST("/auth/password-reset/confirm", s.confirmReset)
	anyone.GET("/certificates/:serial", s.verifyCertificate)
	anyone.GET("/units", s.listUnits)
	anyone.GET("/vocabulary", s.vocabulary)
	anyone.GET("/items", s.searchItems)
	anyone.GET("/items/:id", s.getItem)
	anyone.GET("/items/:id/files/*path", s.itemFile)
	anyone.GET("/items/:id/stats", s.itemStats)
	anyone.GET("/items/:id/derivatives", s.itemDerivatives)
	anyone.GET("/items/:id/derivatives/:sha/:name", s.derivativeFile)
	anyone.GET("/items/:id/media", s.itemMedia)
	anyone.GET("/items/:id/media/:sha/*name", s.mediaFile)
	anyone.GET("/items/:id/captions/:sha/:lang", s.itemCaptions(s.Captions))
	anyone.POST("/items/:id/views", s.recordView)
	anyone.GET("/trending", s.trending)
	anyone.GET("/collections", s.listCollections)
	anyone.GET("/collections/:id", s.getCollection)
	anyone.GET("/courses", s.searchCourses)
	anyone.GET("/courses/:id", s.getCourse)
	anyone.POST("/courses/:id/lessons/:n/plays", s.countPlay)
	anyone.GET("/courses/:id/stats", s.courseStatsAPI)
	anyone.GET("/exhibitions", s.searchExhibitions)
	anyone.GET("/exhibitions/:id", s.getExhibition)
	anyone.POST("/exhibitions/:id/views", s.countExhibitionVisit)
	anyone.POST("/exhibitions/:id/exhibits/:key/views", s.countExhibitView)
	anyone.POST("/exhibitions/:id/exhibits/:key/dwell", s.countExhibitDwell)

	anyone.GET("/lectures", s.listLectures)
	anyone.GET("/lectures/:id", s.getLecture)
	anyone.GET("/lectures/:id/stats", s.lectureStats)
	anyone.GET("/lectures/:id/chat", s.chatEvents)
	anyone.GET("/lectures/:id/guide", s.guideEvents)
	// WHIP and WHEP, open to the pages of live.allowed_origins too (cors.go).
	signal := anyone.Group("/lectures/:id", s.liveCORS)
	signal.OPTIONS("/whip", s.livePreflight(liveOffer))
	signal.POST("/whip", s.whipPublish)
	signal.OPTIONS("/whip/:session", s.livePreflight(liveSession))
	signal.DELETE("/whip/:session", s.whipEnd)
	signal.PATCH("/whip/:session", s.trickle)
	signal.OPTIONS("/whep", s.livePreflight(liveOffer))
	signal.POST("/whep", s.whepWatch)
	signal.OPTIONS("/whep/:session", s.livePreflight(liveSession))
	signal.DELETE("/whep/:session", s.whepEnd)
	signal.PATCH("/whep/:session", s.trickle)
	signal.OPTIONS("/whep/:session/layer", s.livePreflight(liveLayer))
	signal.POST("/whep/:session/layer", s.whepLayer)
	anyone.GET("/ice-servers", s.getICEServers)

	signedIn := anyone.Group("", s.requireAccount)
	signedIn.POST("/auth/logout", s.logout)
	signedIn.GET("/me", s.me)
	signedIn.POST("/me/password", s.changePassword)
	signedIn.GET("/me/tokens", s.listTokens)
	signedIn.POST("/me/tokens", s.createToken)
	signedIn.DELETE("/me/tokens/:id", s.revokeToken)

	// Staff: librarians, lecturers and admins. Lecturers keep their lesson recordings as items
	// of their unit, so they edit items too; librarians make courses and lectures as well.
	staff := signedIn.Group("", s.requireRole(staffRoles...))
	staff.GET("/accounts", s.searchAccounts)
	staff.GET("/accounts/:name", s.getAccount)

	staff.POST("/items", s.createItem)
	staff.PUT("/items/:id", s.updateItem)
	staff.POST("/items/:id/status", s.moveItem)
	staff.POST("/items/status", s.moveItems)
	staff.POST("/items/:id/review", s.reviewItem)
	staff.GET("/review/queue", s.reviewQueue)
	staff.POST("/items/:id/restore", s.restoreItem)
	staff.GET("/items/:id/history", s.itemHistory)
	staff.GET("/items/:id/fixity", s.itemFixity)
	staff.GET("/items/:id/versions/:version", s.itemVersion)
	staff.DELETE("/items/:id/files/*path", s.removeItemFile)
	staff.POST("/items/:id/files", s.attachFile)
	staff.PUT("/items/:id/captions/:sha/:lang", s.putCaptions(s.Captions))
	staff.GET("/staff/items", s.staffItems)
	staff.POST("/items/:id/derivatives/retry", s.retryDerivatives)
	staff.POST("/collections", s.createCollection)
	staff.PUT("/collections/:id", s.updateCollection)
	staff.POST("/uploads", s.createUpload)
	staff.GET("/uploads/:id", s.getUpload)
	staff.POST("/uploads/:id/urls", s.partURLs)
	staff.DELETE("/uploads/:id", s.abortUpload)
	signedIn.GET("/jobs/:id", s.getJob)
	signedIn.GET("/me/learning", s.myLearning)
	signedIn.POST("/courses/:id/enrol", s.enrol)
	signedIn.GET("/courses/:id/progress", s.courseProgress)
	signedIn.PUT("/courses/:id/lessons/:n/progress", s.saveProgress)
	signedIn.GET("/courses/:id/certificate", s.certificate)

	staff.POST("/courses", s.createCourse)
	staff.PUT("/courses/:id", s.updateCourse)
	staff.POST("/courses/:id/status", s.moveCourse)
	staff.POST("/courses/:id/review", s.reviewCourse)
	staff.POST("/exhibitions", s.createExhibition)
	staff.PUT("/exhibitions/:id", s.updateExhibition)
	staff.DELETE("/exhibitions/:id", s.deleteExhibition)
	staff.POST("/exhibitions/:id/status", s.moveExhibition)
	staff.POST("/exhibitions/:id/review", s.reviewExhibition)
	staff.GET("/exhibitions/:id/stats", s.exhibitionStatsAPI)
	staff.POST("/lectures", s.createLecture)
	staff.PUT("/lectures/:id", s.updateLecture)
	staff.POST("/lectures/:id/cancel", s.cancelLecture)
	staff.POST("/lectures/:id/key", s.rotateKey)
	staff.POST("/lectures/:id/end", s.endLecture)
	signedIn.POST("/lectures/:id/chat", s.postChat)
	signedIn.POST("/lectures/:id/guide", s.moveGuide)
	signedIn.DELETE("/lectures/:id/chat/:msg", s.deleteChat)
	signedIn.POST("/lectures/:id/chat/:msg/answered", s.answerQuestion)
	signedIn.POST("/lectures/:id/mutes", s.muteUser)
	signedIn.DELETE("/lectures/:id/mutes/:author", s.unmuteUser)

	admins := signedIn.Group("", s.requireRole(accounts.Admin))
	admins.POST("/accounts", s.createAccount)
	admins.PATCH("/accounts/:name", s.updateAccount)
	admins.POST("/units", s.createUnit)
	admins.PATCH("/units/:id", s.renameUnit)

	// Pages; each checks who may see it, as some show more to staff.
	pages := e.Group("", s.pageLang)
	pages.GET("/", s.page("home"))
	pages.GET("/login", s.page("login"))
	pages.GET("/register", s.page("register"))
	pages.GET("/password-reset", s.resetPage)
	pages.GET("/password-reset/new", s.page("password_new"))
	pages.GET("/account", s.accountPage)
	pages.GET("/account/developer", s.pageFor("account_developer"))
	pages.GET("/certificates", s.verifyCertificatePage)
	pages.GET("/certificates/:serial", s.verifyCertificatePage)
	pages.GET("/memory", s.memorySearchPage)
	pages.GET("/memory/items/:id", s.memoryItemPage)
	pages.GET("/memory/collections/:id", s.memoryCollectionPage)
	pages.GET("/courses", s.courseCataloguePage)
	pages.GET("/courses/:id", s.coursePage)
	pages.GET("/courses/:id/lessons/:n", s.lessonPage)
	pages.GET("/courses/:id/certificate", s.certificatePage)
	pages.GET("/exhibitions", s.exhibitionsPage)
	pages.GET("/exhibitions/:id", s.exhibitionPage)
	pages.GET("/lectures", s.lecturesPage)
	pages.GET("/lectures/feed.rss", s.lectureFeed("rss"))
	pages.GET("/lectures/feed.atom", s.lectureFeed("atom"))
	pages.GET("/lectures/calendar.ics", s.lectureFeed("ics"))
	pages.GET("/lectures/:id", s.lecturePage)
	pages.GET("/lectures/:id/calendar.ics", s.lectureCalendar)
	pages.GET("/console", s.consoleHomePage)
	pages.GET("/console/items/new", s.consoleItemPage)
	pages.GET("/console/items/:id", s.consoleItemPage)
	pages.GET("/console/courses", s.consoleCoursesPage)
	pages.GET("/console/courses/new", s.consoleCoursePage)
	pages.GET("/console/courses/:id", s.consoleCoursePage)
	pages.GET("/console/exhibitions", s.consoleExhibitionsPage)
	pages.GET("/console/exhibitions/new", s.consoleExhibitionPage)
	pages.GET("/console/exhibitions/:id", s.consoleExhibitionPage)
	pages.GET("/console/lectures", s.consoleLecturesPage)
	pages.GET("/console/lectures/new", s.consoleLecturePage)
	pages.GET("/console/lectures/:id", s.consoleLecturePage)
	pages.GET("/studio/lectures/:id", s.studioPage)
	// Players other sites may frame (live.embed_origins).
	pages.GET("/embed/lectures/:id", s.embeddable, s.lectureEmbedPage)
	pages.GET("/embed/tours/:id", s.embeddable, s.tourEmbedPage)
	pages.GET("/admin/users", s.pageFor("admin_users", accounts.Admin))
	pages.GET("/admin/units", s.pageFor("admin_units", accounts.Admin))

	e.NoRoute(s.pageLang, s.notFound)
	e.NoMethod(func(c *gin.Context) { s.abort(c, problem.MethodNotAllowed, c.Request.Method) })
}

// staffRoles may use the consoles: librarians, lecturers and admins.
var staffRoles = []accounts.Role{accounts.Admin, accounts.Librarian, accounts.Lecturer}

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
