package live

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shizuishan/culturecloud/media/sfu"
)

// RegisterMetrics exports the SFU's counters: rooms and viewers now, packets in, forwarded
// and dropped, keyframe requests and layer switches since start.
func RegisterMetrics(reg prometheus.Registerer, f *sfu.SFU) {
	gauge := func(name, help string, v func(sfu.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "culturecloud", Subsystem: "sfu", Name: name, Help: help},
			func() float64 { return v(f.Stats()) })
	}
	counter := func(name, help string, v func(sfu.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "culturecloud", Subsystem: "sfu", Name: name, Help: help},
			func() float64 { return float64(v(f.Stats())) })
	}
	reg.MustRegister(
		gauge("rooms", "Live lectures with a publisher on this node.", func(s sfu.Stats) float64 { return float64(s.Rooms) }),
		gauge("viewers", "Viewer sessions on this node.", func(s sfu.Stats) float64 { return float64(s.Viewers) }),
		counter("packets_in_total", "RTP packets received from publishers.", func(s sfu.Stats) uint64 { return s.PacketsIn }),
		counter("packets_forwarded_total", "RTP packets written to viewers.", func(s sfu.Stats) uint64 { return s.PacketsForwarded }),
		counter("bytes_forwarded_total", "Payload bytes written to viewers.", func(s sfu.Stats) uint64 { return s.BytesForwarded }),
		counter("packets_dropped_total", "Packets not queued because a viewer's queue was full.", func(s sfu.Stats) uint64 { return s.PacketsDropped }),
		counter("gso_sends_total", "UDP sends that carried more than one packet (GSO).", func(s sfu.Stats) uint64 { return s.GSOSends }),
		counter("packets_resent_total", "Packets sent again because a viewer's NACK asked for them.", func(s sfu.Stats) uint64 { return s.PacketsResent }),
		counter("keyframe_requests_total", "Keyframe requests (PLI) sent to publishers.", func(s sfu.Stats) uint64 { return s.KeyframeRequests }),
		counter("layer_switches_total", "Simulcast layer changes made for viewers.", func(s sfu.Stats) uint64 { return s.LayerSwitches }),
		counter("slow_viewers_ended_total", "Viewers ended because they could not keep up.", func(s sfu.Stats) uint64 { return s.SlowViewersEnded }),
	)
}
