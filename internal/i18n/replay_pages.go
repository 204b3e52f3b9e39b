package i18n

// replayMessages holds the words a lecture's replay shows beside its player.
var replayMessages = map[string]text{
	"replay.of_lecture":   {"讲座回放：", "Replay of the lecture:"},
	"replay.held":         {"讲座时间：%s（北京时间）", "Held %s (Beijing time)"},
	"replay.chat_title":   {"讲座留言与已回答的提问", "Chat and answered questions"},
	"replay.chat_note":    {"直播时的留言记录，只供阅读。", "What was written during the live lecture, to read only."},
	"replay.no_chat":      {"这场讲座没有留言。", "No one wrote in the chat of this lecture."},
	"replay.chat_lost":    {"讲座结束时未能保存留言记录。", "The chat could not be kept when the lecture ended."},
	"replay.chat_sign_in": {"这场讲座仅限注册用户，登录后可阅读留言记录。", "This lecture was for registered users: sign in to read its chat."},
	"replay.question":     {"提问", "Question"},
	"replay.answered":     {"已回答", "Answered"},
	"replay.said":         {"%s 于 %s", "%s at %s"},
	// A guided tour's walkthrough on its pages (lecture, studio, replay, embed).
	"tour.heading":     {"导览展览：%s", "Tour of the exhibition: %s"},
	"tour.follow":      {"跟随导览员", "Follow the guide"},
	"tour.rejoin":      {"回到导览员位置", "Back to where the guide is"},
	"tour.following":   {"正在跟随导览员。再按一次按钮可自由参观。", "Following the guide. Press the button again to explore freely."},
	"tour.exploring":   {"自由参观中，页面不再跟随导览员。", "Exploring freely: the page no longer follows the guide."},
	"tour.moved":       {"导览员来到：{label}", "The guide moved to: {label}"},
	"tour.guide_hint":  {"您是导览员：直播时，您在下面展览中看到的展品和放大的区域会同步给所有跟随的观众。", "You are the guide: while live, the exhibit and the zoomed region you show below are shown to every viewer who follows you."},
	"tour.sent":        {"观众已跟随到：{label}", "Viewers now follow you to: {label}"},
	"tour.send_failed": {"位置未能同步给观众，请稍后再试。", "Your position did not reach the viewers; try again in a moment."},
	"tour.offline":     {"暂时收不到导览员的位置，页面会自动重新连接，请稍候。", "The guide's moves are not reaching this page just now; it will reconnect by itself in a moment."},
}
