package web

// ReplayView is what a lecture's replay item shows beside its player: the lecture it came
// from and the lecture's chat, read-only.
type ReplayView struct {
	Lecture      string // id: the link to /lectures/{id}
	LectureTitle string
	Held         string // LectureTime of its start, in Beijing time
	Messages     []ReplayMessage
	ChatHidden   bool // the lecture was for registered users and the visitor is not signed in
	ChatLost     bool // the chat could not be kept when the lecture ended
	// Tour is the exhibition of a guided tour, whose walkthrough follows Track (the guide's
	// kept positions as JSON) by the video's time; nil for a lecture's replay.
	Tour  *ExhibitionData
	Track string
}

// ReplayMessage is a chat message or an answered question of the lecture.
type ReplayMessage struct {
	Question bool
	Name     string
	Text     string
	Time     string // "19:32", Beijing time
	DateTime string // RFC 3339, for <time datetime>
}
