package i18n

// pageMessages holds the words of the web pages (keys page.*, nav.*, form.*, ...).
var pageMessages = map[string]text{
	"site.name": {"石嘴山数字文化云", "Shizuishan Culture Cloud"},
}
