// Exhibit counts: the walkthrough tells which exhibit is on screen (cc:exhibit-shown); this
// counts a view of it, and when the visitor moves on, hides the page or leaves, how long it
// was on screen, so that curators see which exhibits hold attention. Only time with the page
// visible counts. Nothing here is needed to see the exhibition: failures are ignored.
(function () {
  'use strict';

  var root = document.getElementById('exhibition');
  var base = root && root.getAttribute('data-counts');
  if (!base || !window.fetch) return;

  var current = null; // {key, since (ms, null while hidden), spent (ms)}

  function url(key, what) { return base + encodeURIComponent(key) + '/' + what; }

  function post(key, what, body) {
    var text = JSON.stringify(body || {});
    // A beacon survives the page being closed; fetch with keepalive where beacons are missing.
    if (what === 'dwell' && navigator.sendBeacon &&
        navigator.sendBeacon(url(key, what), new Blob([text], { type: 'application/json' }))) return;
    fetch(url(key, what), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text,
      credentials: 'same-origin', keepalive: true }).catch(function () {});
  }

  // flush sends the time spent on the current exhibit since the last report.
  function flush() {
    if (!current) return;
    if (current.since !== null) current.spent += Date.now() - current.since;
    current.since = null;
    if (current.spent > 0) post(current.key, 'dwell', { seconds: Math.round(current.spent / 100) / 10 });
    current.spent = 0;
  }

  function start(fig) {
    flush();
    var key = fig && fig.getAttribute('data-key');
    current = key ? { key: key, since: document.hidden ? null : Date.now(), spent: 0 } : null;
    if (current) post(key, 'views');
  }

  root.addEventListener('cc:exhibit-shown', function (ev) {
    var fig = document.getElementById('exhibit-' + ev.detail.n);
    if (!current || !fig || fig.getAttribute('data-key') !== current.key) start(fig);
  });
  // Hidden may be the last chance to report (mobile browsers rarely fire pagehide), so the time
  // so far is sent then; coming back starts a new stretch of the same view.
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) flush();
    else if (current && current.since === null) current.since = Date.now();
  });
  window.addEventListener('pagehide', flush);

  // The walkthrough may have shown its first exhibit before this script ran.
  var shown = root.getAttribute('data-current');
  if (shown !== null) start(document.getElementById('exhibit-' + shown));
})();
