// Guided tours (导览): a lecture that leads through an exhibition. The exhibition's
// walkthrough (exhibitions.js) is on the tour's pages inside #tour, and this script ties it to
// the guide's position track:
// - guide mode (the studio): what the guide shows in the walkthrough (cc:exhibit-shown, and
//   cc:view-changed from the deep-zoom viewer or a panorama) is posted to
//   /api/v1/lectures/{id}/guide while the tour is live, at most one position every MOVE_EVERY
//   ms, the newest winning;
// - viewer mode (the lecture's page, its embed, the replay): while the tour is live the page
//   follows the guide's positions (Server-Sent Events) by cc:go; on a replay it follows the
//   kept track by the video's time. The visitor may explore freely (the follow switch, or any
//   move of their own) and come back to where the guide is.
// Positions pass through as they come: section, exhibit, region, yaw, pitch, zoom.
(function () {
  'use strict';

  var doc = document;
  var MOVE_EVERY = 150; // ms between two posted positions (the server refuses closer than 100)
  var NOT_LIVE_YET = 350; // ms more to wait when the server does not yet know the tour is live
  var FOLLOW_SPRING = 0.2; // s: how fast a following deep-zoom view goes where the guide's went
  var FIELDS = ['section', 'exhibit', 'region', 'yaw', 'pitch', 'zoom', 'key'];
  var RETRY_FIRST = 2000; // ms before connecting again to a guide's stream the server refused,
  var RETRY_MOST = 30000; // doubling up to this, each wait between 3/4 and 5/4 of it

  function tr(root, name) { return (root && root.getAttribute('data-t-' + name)) || ''; }
  function fill(template, values) {
    var out = template || '';
    Object.keys(values).forEach(function (k) { out = out.split('{' + k + '}').join(String(values[k])); });
    return out;
  }
  function copy(pos) {
    var out = {};
    FIELDS.forEach(function (f) { if (pos[f] !== undefined && pos[f] !== null) out[f] = pos[f]; });
    return out;
  }
  function lectureAPI(id) { return '/api/v1/lectures/' + encodeURIComponent(id) + '/guide'; }
  // figureOf is the exhibit a position names: by what it shows (key, which the server adds)
  // when the page has it, since rooms may have been renumbered since the tour (an item
  // withdrawn after it), else by its room and place.
  function figureOf(walk, pos) {
    if (pos.key && window.CSS && CSS.escape) {
      var byKey = walk.querySelector('figure.exhibit[data-key="' + CSS.escape(String(pos.key)) + '"]');
      if (byKey) return byKey;
    }
    return walk.querySelector('figure.exhibit[data-section="' + Number(pos.section) + '"][data-index="' + Number(pos.exhibit) + '"]');
  }

  // ---- The guide ------------------------------------------------------------------------

  function initGuide(tour, walk) {
    var id = tour.getAttribute('data-lecture');
    var studio = doc.getElementById('studio');
    var status = doc.getElementById('tour-guide-status');
    var current = null;
    var pending = null;
    var timer = null;
    var sending = false;
    var lastSent = 0;

    function live() {
      return !!studio && (studio.getAttribute('data-live') === '1' || studio.getAttribute('data-state') === 'live');
    }
    function schedule() {
      if (timer !== null || sending || !pending || !live()) return;
      var wait = lastSent + MOVE_EVERY - Date.now();
      if (wait <= 0) send(); else timer = setTimeout(send, wait); // at once when it may: the request starts now
    }
    async function send() {
      timer = null;
      if (!pending || !live()) return;
      var pos = pending;
      pending = null;
      sending = true;
      lastSent = Date.now();
      var res;
      try { res = await window.CC.api('POST', lectureAPI(id), pos); } catch (e) { res = { ok: false, status: 0 }; }
      sending = false;
      if (res.status === 429 || res.status === 0 || res.status === 409) {
        // Sent again after the interval, unless a newer one came; "not live" (409) comes
        // while the server has not yet seen the stream the studio already sends.
        if (!pending) pending = pos;
        if (res.status === 409) lastSent = Date.now() + NOT_LIVE_YET;
      } else if (res.ok) {
        tour.setAttribute('data-sent', JSON.stringify(pos));
        var fig = figureOf(walk, pos);
        if (status) status.textContent = fill(tr(tour, 'sent'), { label: fig ? fig.getAttribute('data-label') : '' });
      } else if (status) {
        status.textContent = tr(tour, 'send-failed');
      }
      schedule();
    }
    function queue(pos) {
      current = pos;
      pending = copy(pos);
      schedule();
    }

    walk.addEventListener('cc:exhibit-shown', function (ev) {
      queue({ section: ev.detail.section, exhibit: ev.detail.exhibit });
    });
    walk.addEventListener('cc:view-changed', function (ev) {
      var d = ev.detail || {};
      if (current && (d.section !== current.section || d.exhibit !== current.exhibit)) return; // a hidden exhibit's
      queue(copy(d));
    });
    // Where the walkthrough already is counts once the tour is live.
    var n = walk.getAttribute('data-current');
    var fig = n !== null ? doc.getElementById('exhibit-' + n) : null;
    if (fig) current = { section: Number(fig.getAttribute('data-section')), exhibit: Number(fig.getAttribute('data-index')) };
    if (studio) {
      new MutationObserver(function () {
        if (live() && current && !pending && !sending) pending = copy(current);
        schedule();
      }).observe(studio, { attributes: true, attributeFilter: ['data-live', 'data-state'] });
    }
    if (live() && current) queue(current);
  }

  // playable lets a replay whose only source is its HLS stream (a view-only recording) play
  // through hls.js where Media Source Extensions exist, as the lesson player does: Chromium
  // answers canPlayType "maybe" for HLS and then does not play it.
  function playable(video) {
    var stream = video.querySelector('source[type="application/vnd.apple.mpegurl"]');
    var other = video.querySelector('source:not([type="application/vnd.apple.mpegurl"])');
    // The item page's own script (library.js) may have attached hls.js already.
    if (!stream || other || video.hasAttribute('data-hls') || !window.Hls || !window.Hls.isSupported()) return;
    video.setAttribute('data-hls', '1');
    var hls = new window.Hls();
    hls.loadSource(stream.getAttribute('src'));
    hls.attachMedia(video);
  }

  // ---- A viewer -------------------------------------------------------------------------

  function initViewer(tour, walk) {
    var id = tour.getAttribute('data-lecture');
    var page = doc.getElementById('lecture-page');
    var button = doc.getElementById('tour-follow');
    var rejoin = doc.getElementById('tour-rejoin');
    var state = doc.getElementById('tour-state');
    var announce = doc.getElementById('tour-announce');
    var position = doc.getElementById('exhibit-position');
    var following = true;
    var applying = false;
    var guide = null; // the guide's position now (live) or at the video's time (replay)
    var shownKey = '';
    var source = null;

    function setFollowing(on) {
      following = on;
      if (!on) walk.querySelectorAll('figure.exhibit').forEach(function (f) { pace(f, false); });
      button.setAttribute('aria-pressed', on ? 'true' : 'false');
      tour.setAttribute('data-following', on ? '1' : '');
      rejoin.hidden = on || !guide;
      state.textContent = on ? tr(tour, 'following') : tr(tour, 'exploring');
      // While following, #tour-announce says each of the guide's moves; the walkthrough's own
      // position line saying it too would announce it twice.
      if (position) position.setAttribute('aria-live', on ? 'off' : 'polite');
      if (on && guide) go(guide);
    }
    // While following, the deep-zoom view keeps up with the guide's (whose moves come a few
    // times a second) instead of easing for OpenSeadragon's second and more; exploring freely
    // gives it back its own pace.
    function springs(viewer) {
      var vp = viewer.viewport;
      return vp ? [vp.centerSpringX, vp.centerSpringY, vp.zoomSpring].filter(Boolean) : [];
    }
    function pace(fig, fast) {
      var box = fig && fig.querySelector('.deep-zoom');
      var viewer = box && box.ccViewer;
      if (!viewer) return;
      springs(viewer).forEach(function (sp) {
        if (sp.ccOwnTime === undefined) sp.ccOwnTime = sp.animationTime;
        sp.animationTime = fast ? Math.min(FOLLOW_SPRING, sp.ccOwnTime) : sp.ccOwnTime;
      });
    }
    function go(pos) {
      var fig = figureOf(walk, pos);
      if (!fig) return;
      // The walkthrough goes by room and place: those of the figure found.
      var at = copy(pos);
      at.section = Number(fig.getAttribute('data-section'));
      at.exhibit = Number(fig.getAttribute('data-index'));
      var key = at.section + '/' + at.exhibit;
      pace(fig, true);
      applying = true;
      try {
        walk.dispatchEvent(new CustomEvent('cc:go', { detail: at }));
      } finally {
        applying = false;
      }
      tour.setAttribute('data-applied', JSON.stringify(copy(pos)));
      if (key !== shownKey) {
        shownKey = key;
        announce.textContent = fill(tr(tour, 'moved'), { label: fig.getAttribute('data-label') });
      }
    }
    function guideAt(pos) {
      guide = copy(pos);
      if (following) go(guide); else rejoin.hidden = false;
    }

    button.addEventListener('click', function () { setFollowing(!following); });
    rejoin.addEventListener('click', function () {
      setFollowing(true);
      button.focus();
    });
    // A move of the visitor's own (another exhibit, or panning and zooming the image) is
    // exploring freely.
    walk.addEventListener('cc:exhibit-shown', function () {
      if (!applying && following) setFollowing(false);
    });
    ['pointerdown', 'wheel', 'keydown'].forEach(function (type) {
      walk.addEventListener(type, function (ev) {
        if (following && ev.target.closest && ev.target.closest('.deep-zoom, .panorama')) setFollowing(false);
      }, { passive: true });
    });

    // Live: the guide's positions as Server-Sent Events, while the tour is live. The browser
    // reconnects by itself after a dropped connection, but not after an error answer (the
    // server refuses streams over its caps with 429 or 503): then the page tries again later,
    // waiting longer each time, and says so.
    var connection = doc.getElementById('tour-connection');
    var retries = 0;
    var retryTimer = null;
    function say(text) { if (connection && connection.textContent !== text) connection.textContent = text; }
    function connect() {
      var live = page && page.getAttribute('data-state') === 'live';
      if (live && !source && retryTimer === null && typeof window.EventSource === 'function') {
        var es = new EventSource(lectureAPI(id));
        source = es;
        es.addEventListener('position', function (ev) {
          var e;
          try { e = JSON.parse(ev.data); } catch (err) { return; }
          if (!e || !e.position) return;
          tour.setAttribute('data-heard-at', String(Date.now()));
          guideAt(e.position);
        });
        es.addEventListener('open', function () {
          retries = 0;
          tour.removeAttribute('data-reconnecting');
          say('');
        });
        es.addEventListener('error', function () {
          if (source !== es) return;
          say(tr(tour, 'offline'));
          if (es.readyState !== EventSource.CLOSED) return; // the browser is trying again
          es.close();
          source = null;
          var wait = Math.min(RETRY_MOST, RETRY_FIRST * Math.pow(2, retries));
          retries++;
          wait = wait * (0.75 + Math.random() / 2);
          tour.setAttribute('data-reconnecting', String(Math.round(wait)));
          retryTimer = setTimeout(function () { retryTimer = null; connect(); }, wait);
        });
      } else if (!live) {
        if (source) source.close();
        source = null;
        if (retryTimer !== null) clearTimeout(retryTimer);
        retryTimer = null;
        retries = 0;
        tour.removeAttribute('data-reconnecting');
        say('');
      }
    }
    if (page) {
      new MutationObserver(connect).observe(page, { attributes: true, attributeFilter: ['data-state'] });
      connect();
    }

    // Replay: the kept track, by the video's time (offsets count from going live, which is
    // where the recording begins).
    var track = [];
    try { track = JSON.parse(tour.getAttribute('data-track') || '[]') || []; } catch (e) { track = []; }
    var video = track.length ? doc.querySelector(tour.getAttribute('data-video') || 'video') : null;
    if (video) {
      playable(video);
      var at = -1;
      var follow = function () {
        var t = video.currentTime;
        var i = -1;
        for (var k = 0; k < track.length && track[k].offset <= t; k++) i = k;
        if (i === at) return;
        at = i;
        if (i >= 0) guideAt(track[i].position);
      };
      ['timeupdate', 'seeked', 'loadedmetadata'].forEach(function (type) { video.addEventListener(type, follow); });
      follow();
    }
    setFollowing(true);
  }

  function init() {
    var tour = doc.getElementById('tour');
    var walk = doc.getElementById('exhibition');
    if (!tour || !walk || !walk.querySelector('figure.exhibit')) return;
    if (tour.getAttribute('data-mode') === 'guide') initGuide(tour, walk); else initViewer(tour, walk);
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
