// Package sfu is the selective forwarding unit for live public lectures and guided tours.
//
// A lecturer publishes one room with WHIP ([SFU.Publish]); viewers play it with WHEP
// ([SFU.Subscribe]). The SFU forwards RTP without transcoding: H.264 or VP8 video (with
// simulcast layers h/m/l when offered) and Opus audio. Keyframe requests from viewers
// reach the publisher at most once per [Config.KeyframeInterval] per track; a new viewer
// gets video from a keyframe on. NACKs from viewers are answered from the packets the room holds.
//
// Fan-out: each publisher track has one reader goroutine. It reads a packet once into a
// pooled, reference-counted buffer and puts a reference on the bounded queue of every
// viewer that wants it; a bounded pool of writer goroutines ([Config.Writers]) drains the
// viewer queues, rewriting SSRC, payload type, sequence number and timestamp into a
// per-viewer header. A viewer whose queue is full loses packets (counted in [Stats]);
// it never delays the reader or other viewers. A viewer's video frame is written in one
// batch, which the UDP socket sends with GSO. See docs/decisions/0010-sfu-fanout.md and
// 0016-sfu-shared-history-and-gso.md.
//
// The hot path's parts are small packages under internal/, each with a benchmark that
// reports bytes and allocations: packetcache (the pooled, shared packets and each viewer
// track's history of what it sent, for NACKs), sendqueue (a viewer's bounded queue) and
// gso (the UDP socket that sends a viewer's batch in GSO sends). See
// docs/decisions/0031-sfu-hot-path-packages.md.
//
// All media goes through one UDP port (ICE UDP mux) and, optionally, one TCP port
// (ICE-TCP). The package has no HTTP: handlers in internal/server translate WHIP/WHEP
// requests into these calls and map the sentinel errors to 4xx answers.
package sfu
