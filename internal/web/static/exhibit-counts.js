// Exhibit counts: the walkthrough tells which exhibit is on screen (cc:exhibit-shown); this
// counts a view of it, and when the visitor moves on, hides the page or leaves, how long it
// was on screen, so that curators see which exhibits hold attention. Only time with the page
// visible counts. Nothing here is needed to see the exhibition: failures are ignored.
(function () {
  'use strict';

  var root = document.getElementById('exhibition');
  var base = root && root.getAttribute('data-counts');
  if (!base || !window.fetch) return;

  // The exhibit on screen: its key, when its visible time started (null while hidden), the
  // time before that, and whether its dwell was reported (once per view).
  var current = null;

  function url(key, what) { return base + encodeURIComponent(key) + '/' + what; }

  function post(key, what, body) {
    var text = JSON.stringify(body || {});
    // A beacon survives the page being closed; fetch with keepalive where beacons are missing.
    if (what === 'dwell' && navigator.sendBeacon &&
        navigator.sendBeacon(url(key, what), new Blob([text], { type: 'application/json' }))) return;
    fetch(url(key, what), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text,
      credentials: 'same-origin', keepalive: true }).catch(function () {});
  }

  // report sends the time the current exhibit was on screen, once per view: when the visitor
  // moves on, leaves, or hides the page (on phones often the last moment a page has). Time
  // after coming back to a hidden page is not reported: one report per view keeps the
  // histogram a count of views.
  function report() {
    if (!current || current.reported) return;
    if (current.since !== null) current.spent += Date.now() - current.since;
    current.since = null;
    current.reported = true;
    post(current.key, 'dwell', { seconds: Math.round(current.spent / 100) / 10 });
  }

  function start(fig) {
    report();
    var key = fig && fig.getAttribute('data-key');
    current = key ? { key: key, since: document.hidden ? null : Date.now(), spent: 0, reported: false } : null;
    if (current) post(key, 'views');
  }

  root.addEventListener('cc:exhibit-shown', function (ev) {
    var fig = document.getElementById('exhibit-' + ev.detail.n);
    if (!current || !fig || fig.getAttribute('data-key') !== current.key) start(fig);
  });
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) report();
    else if (current && !current.reported && current.since === null) current.since = Date.now(); // opened in a background tab
  });
  window.addEventListener('pagehide', report);

  // The walkthrough may have shown its first exhibit before this script ran.
  var shown = root.getAttribute('data-current');
  if (shown !== null) start(document.getElementById('exhibit-' + shown));
})();
