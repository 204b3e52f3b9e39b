package sfutest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Publisher is an encoder as the studio page runs one: an H.264 and an Opus track, sent at
// 30 fps and every 20 ms, looped, with an IDR at once whenever a PLI comes.
type Publisher struct {
	PC *webrtc.PeerConnection

	video, audio *webrtc.TrackLocalStaticSample
	jump         atomic.Bool // a PLI came: send the next IDR now
	pliMu        sync.Mutex
	pliTimes     []time.Time
	stop         chan struct{}
	stopOnce     sync.Once
	wg           sync.WaitGroup
}

// NewPublisher makes the PeerConnection, with H.264 preferred; it sends nothing before
// Start, so that a test can also take just its offer.
func NewPublisher(api *webrtc.API) (*Publisher, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &Publisher{PC: pc, stop: make(chan struct{})}
	if err := p.addTracks(); err != nil {
		_ = pc.Close()
		return nil, err
	}
	return p, nil
}

func (p *Publisher) addTracks() error {
	var err error
	p.video, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "video", "lecture")
	if err != nil {
		return err
	}
	p.audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "lecture")
	if err != nil {
		return err
	}
	for _, tr := range []webrtc.TrackLocal{p.video, p.audio} {
		tc, err := p.PC.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		isVideo := tr == webrtc.TrackLocal(p.video)
		if isVideo {
			if err := PreferH264(tc); err != nil {
				return err
			}
		}
		go p.readRTCP(tc.Sender(), isVideo)
	}
	return nil
}

// readRTCP drains the sender's RTCP, which the interceptors need, and notes the PLIs.
func (p *Publisher) readRTCP(sender *webrtc.RTPSender, isVideo bool) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pk := range pkts {
			if _, ok := pk.(*rtcp.PictureLossIndication); ok && isVideo {
				p.pliMu.Lock()
				p.pliTimes = append(p.pliTimes, time.Now())
				p.pliMu.Unlock()
				p.jump.Store(true)
			}
		}
	}
}

// Start sets the answer and starts sending m until Halt or Close.
func (p *Publisher) Start(answer string, m *Media) error {
	if err := p.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return err
	}
	p.wg.Add(2)
	go func() { // video, 30 fps
		defer p.wg.Done()
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(m.AUs) {
			if p.jump.Swap(false) {
				for !m.AUs[i].IDR {
					i = (i + 1) % len(m.AUs)
				}
			}
			if err := p.video.WriteSample(media.Sample{Data: m.AUs[i].Data, Duration: time.Second / 30}); err != nil {
				return
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	go func() { // audio, 20 ms packets
		defer p.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(m.Opus) {
			if err := p.audio.WriteSample(media.Sample{Data: m.Opus[i], Duration: 20 * time.Millisecond}); err != nil {
				return
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

// PLIs are the times the video sender got a PLI, in order.
func (p *Publisher) PLIs() []time.Time {
	p.pliMu.Lock()
	defer p.pliMu.Unlock()
	return append([]time.Time(nil), p.pliTimes...)
}

// Halt stops sending; the PeerConnection stays open, as when an encoder stalls.
func (p *Publisher) Halt() {
	p.stopOnce.Do(func() { close(p.stop) })
	p.wg.Wait()
}

// Close halts and closes the PeerConnection.
func (p *Publisher) Close() {
	p.Halt()
	_ = p.PC.Close()
}
