package i18n

// liveMessages holds the words of live lectures: the API's explanations and the pages.
var liveMessages = map[string]text{
	"field.not_image": {"不是图片文件", "is not an image file"},

	"live.wrong_key":        {"推流密钥不正确。请在直播间页面复制本讲座的推流密钥，或重新生成。", "The stream key is wrong. Copy this lecture's stream key from the studio page, or make a new one."},
	"live.not_now":          {"现在不能开始这场讲座的直播：只有“已预告”的讲座可以在开始前 30 分钟到预计结束后 30 分钟之间开播。", "This lecture cannot go live now: only a scheduled lecture can, from 30 minutes before its start until 30 minutes after its expected end."},
	"live.publisher_exists": {"这场讲座已经有人在推流。请先结束另一处的直播。", "Someone is already streaming this lecture. End the other stream first."},
	"live.bad_offer":        {"无法读取 SDP offer。", "The SDP offer could not be read."},
	"live.no_codec":         {"offer 中没有可用的编码：视频需要 H.264 或 VP8，音频需要 Opus。", "The offer has no usable codec: video must be H.264 or VP8, audio Opus."},
	"live.not_live":         {"这场讲座现在没有在直播。", "This lecture is not live right now."},
	"live.sign_in":          {"这场讲座仅限注册用户观看，请先登录。", "This lecture is for registered users; please sign in."},
	"live.muted":            {"您已被主持人暂时禁言。", "A moderator has muted you for a while."},
}
