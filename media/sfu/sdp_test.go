package sfu

import (
	"slices"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestSendRIDs(t *testing.T) {
	cases := []struct {
		simulcast string
		rids      []string
		want      []string
	}{
		{"send h;m;l", nil, []string{"h", "m", "l"}},
		{"send ~h;m,m2;l recv x", nil, []string{"h", "m", "l"}},
		{"recv a;b", nil, nil},
		{"", []string{"q send", "h send", "f recv"}, []string{"q", "h"}},
	}
	for _, c := range cases {
		if got := sendRIDs(c.simulcast, c.rids); !slices.Equal(got, c.want) {
			t.Errorf("sendRIDs(%q, %q) = %q, want %q", c.simulcast, c.rids, got, c.want)
		}
	}
}

func TestOrderRIDs(t *testing.T) {
	cases := [][2][]string{
		{{"l", "h", "m"}, {"h", "m", "l"}},
		{{"q", "h", "f"}, {"f", "h", "q"}},
		{{"m", "l"}, {"m", "l"}},
		{{"a", "b", "c", "d"}, {"a", "b", "c"}},
	}
	for _, c := range cases {
		if got := orderRIDs(c[0]); !slices.Equal(got, c[1]) {
			t.Errorf("orderRIDs(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

func TestCodecMatching(t *testing.T) {
	cb := offerCodec{name: "H264", clock: 90000, fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	high := offerCodec{name: "h264", clock: 90000, fmtp: "packetization-mode=1;profile-level-id=640c1f"}
	mode0 := offerCodec{name: "H264", clock: 90000, fmtp: "profile-level-id=42e01f"}
	want := h264Codec("42e01f")
	if !codecMatches(cb, want, true) || codecMatches(high, want, true) || !codecMatches(high, want, false) {
		t.Error("profile matching")
	}
	if codecMatches(mode0, want, false) {
		t.Error("packetization mode 0 matched mode 1")
	}
	if h264Profile("") != "4200" || h264Mode("") != "0" {
		t.Error("RFC 6184 defaults")
	}
	m := offerMedia{kind: webrtc.RTPCodecTypeVideo, codecs: []offerCodec{{name: "VP9", clock: 90000}, mode0, high, {name: "VP8", clock: 90000}}}
	got, offered, ok := chooseCodec(&m)
	if !ok || got.SDPFmtpLine != h264Codec("640c1f").SDPFmtpLine || offered.fmtp != high.fmtp {
		t.Errorf("chooseCodec: %+v %+v %v", got, offered, ok)
	}
}

func TestParseFragment(t *testing.T) {
	ufrag, cands, err := parseFragment("a=ice-ufrag:abcd\r\na=ice-pwd:x\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\na=end-of-candidates\r\n")
	if err != nil || ufrag != "abcd" || len(cands) != 1 || cands[0].mid != "0" || cands[0].candidate != "candidate:1 1 udp 1 10.0.0.1 5000 typ host" {
		t.Errorf("%q %+v %v", ufrag, cands, err)
	}
	if _, _, err := parseFragment("nonsense"); err == nil {
		t.Error("accepted nonsense")
	}
}
