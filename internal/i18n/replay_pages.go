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
}
