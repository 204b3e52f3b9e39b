// Live lectures: a lecture's page (countdown, the WHEP player, the viewer count, the chat and
// questions), the lecturer's studio (camera or screen, WHIP publishing from the browser,
// moderation, the stream key) and the lecture console's form. Requests and forms come from
// library.js (window.CC), loaded before this file. Every text it shows comes from a data-t-*
// attribute that the server filled from the catalogue; user text only ever goes into
// textContent.
(function () {
  'use strict';

  var doc = document;
  var CC = window.CC;
  var lang = doc.documentElement.lang || 'zh-CN';

  var STATS_EVERY = 5000; // ms between viewer counts
  var ANNOUNCE_EVERY = 60000; // the viewer count is spoken at most this often
  var GATHER_WAIT = 2000; // ms to wait for ICE candidates before sending an offer

  function tr(root, name) { return (root && root.getAttribute('data-t-' + name)) || ''; }
  function fill(template, values) {
    var out = template || '';
    Object.keys(values).forEach(function (k) { out = out.split('{' + k + '}').join(String(values[k])); });
    return out;
  }
  function lectureAPI(id) { return '/api/v1/lectures/' + encodeURIComponent(id); }
  function csrfToken() {
    var m = doc.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : '';
  }
  // say changes a live region only when its words change, so nothing is spoken twice.
  function say(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }
  function problemText(res) { return CC.problemLines(res).filter(Boolean).join(' '); }
  function stateName(root, st) { return tr(root, 'state-' + String(st || '').replace(/_/g, '-')) || st; }
  function parse(data) {
    try { return JSON.parse(data); } catch (e) { return null; }
  }

  // ---- WebRTC helpers (WHIP and WHEP) ------------------------------------------------

  async function iceServers() {
    try {
      var res = await CC.api('GET', '/api/v1/ice-servers');
      return res.ok && res.body && Array.isArray(res.body.ice_servers) ? res.body.ice_servers : [];
    } catch (e) {
      return [];
    }
  }

  // gathered waits until the browser has its ICE candidates (or ms passed), so that the
  // offer carries them: the server takes no trickled candidates from browsers.
  function gathered(pc, ms) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === 'complete') { resolve(); return; }
      var timer = setTimeout(done, ms);
      function check() { if (pc.iceGatheringState === 'complete') done(); }
      function done() {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  // sendSDP posts an offer (WHIP or WHEP) and resolves to {ok, status, text, body, location}.
  async function sendSDP(url, sdp) {
    var headers = { 'Content-Type': 'application/sdp', 'Accept': 'application/sdp, application/problem+json', 'Accept-Language': lang };
    var token = csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
    var res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: headers, body: sdp });
    var text = await res.text();
    return { ok: res.ok, status: res.status, text: text, body: res.ok ? null : parse(text), location: res.headers.get('Location') || '' };
  }

  // endSession deletes a WHIP or WHEP session; keepalive lets it outlive the page.
  function endSession(location, keepalive) {
    var headers = { 'Accept-Language': lang };
    var token = csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
    return fetch(location, { method: 'DELETE', credentials: 'same-origin', keepalive: !!keepalive, headers: headers }).catch(function () {});
  }

  // codecOf names the video codec an answer chose ("H264", "VP8").
  function codecOf(sdp) {
    var lines = String(sdp || '').split(/\r?\n/);
    var video = false;
    var first = '';
    for (var i = 0; i < lines.length; i++) {
      var l = lines[i];
      if (l.indexOf('m=') === 0) {
        if (video && first) break;
        video = l.indexOf('m=video') === 0;
        first = video ? (l.split(' ')[3] || '') : '';
        continue;
      }
      if (video && first && l.indexOf('a=rtpmap:' + first + ' ') === 0) return l.split(' ')[1].split('/')[0];
    }
    return '';
  }

  // preferH264 puts H.264 first on a video transceiver where the browser can encode it
  // (OBS, phones and the recording all handle it best); VP8 stays as the fallback.
  function preferH264(transceiver) {
    if (!transceiver || typeof transceiver.setCodecPreferences !== 'function') return;
    var lists = [];
    if (window.RTCRtpSender && RTCRtpSender.getCapabilities) lists.push(RTCRtpSender.getCapabilities('video'));
    if (window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities) lists.push(RTCRtpReceiver.getCapabilities('video'));
    function score(c) {
      var f = c.sdpFmtpLine || '';
      return (/packetization-mode=1/.test(f) ? 2 : 0) + (/profile-level-id=42e0/.test(f) ? 1 : 0);
    }
    for (var i = 0; i < lists.length; i++) {
      var codecs = (lists[i] && lists[i].codecs) || [];
      var h264 = codecs.filter(function (c) { return /\/h264$/i.test(c.mimeType); });
      if (!h264.length) continue;
      h264.sort(function (a, b) { return score(b) - score(a); });
      var rest = codecs.filter(function (c) { return !/\/h264$/i.test(c.mimeType); });
      try {
        transceiver.setCodecPreferences(h264.concat(rest));
        return;
      } catch (e) { /* not accepted from this list: try the next */ }
    }
  }

  // ---- Viewer count --------------------------------------------------------------------

  // viewerCount polls the lecture's stats. The number on screen changes every few seconds;
  // the hidden live region speaks it at most once a minute and only when it changed.
  function viewerCount(root, id) {
    var shown = doc.getElementById('viewer-count');
    var announce = doc.getElementById('viewer-announce');
    var timer = null;
    var said = -1;
    var saidAt = 0;
    async function tick() {
      if (doc.hidden) return;
      var res;
      try { res = await CC.api('GET', lectureAPI(id) + '/stats'); } catch (e) { return; }
      if (!res.ok || !res.body || typeof res.body.current !== 'number') return;
      var n = res.body.current;
      var text = fill(tr(root, 'viewers'), { n: n });
      say(shown, text);
      shown.setAttribute('data-count', String(n));
      if (n !== said && Date.now() - saidAt >= ANNOUNCE_EVERY) {
        said = n;
        saidAt = Date.now();
        say(announce, text);
      }
    }
    return {
      start: function () {
        if (timer || !shown) return;
        saidAt = Date.now(); // the first words come after a minute: the page says enough on arrival
        tick();
        timer = setInterval(tick, STATS_EVERY);
      },
      stop: function () {
        if (timer) clearInterval(timer);
        timer = null;
      }
    };
  }

  // ---- Chat and questions --------------------------------------------------------------

  function initChat(panel) {
    var id = panel.getAttribute('data-id');
    var canEdit = panel.getAttribute('data-can-edit') === '1';
    var questions = doc.getElementById('question-list');
    var messages = doc.getElementById('chat-list');
    var noQuestions = doc.getElementById('no-questions');
    var noMessages = doc.getElementById('no-messages');
    var connection = doc.getElementById('chat-connection');
    var modStatus = doc.getElementById('chat-moderation-status');
    var announce = doc.getElementById('chat-announce');
    var form = doc.getElementById('chat-form');
    var status = doc.getElementById('chat-status');
    var byID = {};
    var source = null;
    var closed = false;
    var clock = new Intl.DateTimeFormat(lang, { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });

    function speak(on) {
      [questions, messages].forEach(function (l) { l.setAttribute('aria-live', on && announce.checked ? 'polite' : 'off'); });
    }
    announce.addEventListener('change', function () { speak(true); });

    function empties() {
      noQuestions.hidden = questions.children.length > 0;
      noMessages.hidden = messages.children.length > 0;
    }

    // nearBottom: the reader is at the end of the list, so new messages may scroll it.
    function nearBottom(list) { return list.scrollHeight - list.scrollTop - list.clientHeight < 48; }

    function button(text, label, cls, action) {
      var b = CC.el('button', text, cls);
      b.type = 'button';
      b.setAttribute('aria-label', label);
      b.addEventListener('click', action);
      return b;
    }

    function render(m) {
      if (!m || !m.id || byID[m.id]) return;
      var question = m.kind === 'question';
      var list = question ? questions : messages;
      var follow = nearBottom(list);
      var name = (m.author && m.author.name) || '';
      var li = CC.el('li', null, 'chat-message ' + (question ? 'question' : 'message'));
      li.setAttribute('data-id', m.id);
      var head = CC.el('p', null, 'chat-head');
      head.appendChild(CC.el('span', name, 'chat-author'));
      var at = m.at ? new Date(m.at) : null;
      if (at && !isNaN(at.getTime())) {
        var t = CC.el('time', clock.format(at), 'chat-time');
        t.setAttribute('datetime', m.at);
        head.appendChild(t);
      }
      head.appendChild(CC.el('span', '', 'chat-answered'));
      li.appendChild(head);
      li.appendChild(CC.el('p', m.text, 'chat-text'));
      if (canEdit) {
        var actions = CC.el('div', null, 'chat-actions');
        if (question) {
          actions.appendChild(button(tr(panel, 'mark-answered'), fill(tr(panel, 'mark-answered-label'), { name: name }), 'chat-mark', function () { markAnswered(m.id); }));
        }
        actions.appendChild(button(tr(panel, 'delete'), fill(tr(panel, 'delete-label'), { name: name }), 'chat-delete', function () { deleteMessage(m.id); }));
        if (m.author && m.author.id) {
          actions.appendChild(button(tr(panel, 'mute'), fill(tr(panel, 'mute-label'), { name: name }), 'chat-mute', function () { mute(m.author.id, name); }));
        }
        li.appendChild(actions);
      }
      list.appendChild(li);
      byID[m.id] = li;
      if (m.answered) answered(m.id);
      if (follow) list.scrollTop = list.scrollHeight;
    }

    // keepFocus moves the focus out of an element about to lose it: to the next message's
    // first button, the previous one's, or the list.
    function keepFocus(li) {
      if (!li.contains(doc.activeElement)) return;
      var next = li.nextElementSibling || li.previousElementSibling;
      var target = next && next.querySelector('button');
      (target || li.parentNode).focus();
    }

    function removeMessage(msgID) {
      var li = byID[msgID];
      if (!li) return;
      keepFocus(li);
      li.remove();
      delete byID[msgID];
      empties();
    }

    function answered(msgID) {
      var li = byID[msgID];
      if (!li) return;
      li.classList.add('is-answered');
      li.querySelector('.chat-answered').textContent = tr(panel, 'answered');
      var mark = li.querySelector('.chat-mark');
      if (mark) {
        if (mark === doc.activeElement) {
          var other = li.querySelector('.chat-delete');
          if (other) other.focus(); else li.parentNode.focus();
        }
        mark.remove();
      }
    }

    async function moderate(method, url, body, done) {
      var res;
      try { res = await CC.api(method, url, body); } catch (e) {
        CC.setStatus(modStatus, 'error', [doc.body.getAttribute('data-msg-network')]);
        return false;
      }
      if (res.ok) {
        CC.setStatus(modStatus, 'ok', [done]);
        return true;
      }
      CC.setStatus(modStatus, 'error', CC.problemLines(res));
      return false;
    }

    async function deleteMessage(msgID) {
      if (await moderate('DELETE', lectureAPI(id) + '/chat/' + encodeURIComponent(msgID), undefined, tr(panel, 'deleted'))) removeMessage(msgID);
    }
    async function markAnswered(msgID) {
      if (await moderate('POST', lectureAPI(id) + '/chat/' + encodeURIComponent(msgID) + '/answered', undefined, tr(panel, 'marked'))) answered(msgID);
    }
    function mute(author, name) {
      moderate('POST', lectureAPI(id) + '/mutes', { author: author, minutes: 10 }, fill(tr(panel, 'muted-done'), { name: name }));
    }

    function connect() {
      if (source || closed || typeof window.EventSource !== 'function') return;
      source = new EventSource(lectureAPI(id) + '/chat');
      source.addEventListener('history', function (ev) {
        var list = parse(ev.data);
        if (!Array.isArray(list)) return; // a resumed stream sends no history
        speak(false); // the backlog is not read out, only what comes after it
        questions.textContent = '';
        messages.textContent = '';
        byID = {};
        list.forEach(render);
        empties();
        setTimeout(function () { speak(true); }, 500);
        say(connection, '');
      });
      source.addEventListener('message', function (ev) { render(parse(ev.data)); empties(); });
      source.addEventListener('delete', function (ev) { var e = parse(ev.data); if (e) removeMessage(e.target); });
      source.addEventListener('answered', function (ev) { var e = parse(ev.data); if (e) answered(e.target); });
      source.addEventListener('open', function () { say(connection, ''); });
      source.addEventListener('error', function () {
        if (!source) return;
        say(connection, tr(panel, 'offline'));
        if (source.readyState === EventSource.CLOSED) {
          // The browser gave up (an error answer): try again a little later.
          source = null;
          setTimeout(connect, 10000);
        }
      });
    }

    function close() {
      closed = true;
      if (source) source.close();
      source = null;
      say(connection, '');
      if (form) {
        form.querySelectorAll('textarea, button, input').forEach(function (c) { c.disabled = true; });
        CC.setStatus(status, 'info', [tr(panel, 'closed')]);
      }
    }

    if (form) {
      var text = doc.getElementById('chat-text');
      var send = doc.getElementById('chat-send');
      form.addEventListener('submit', async function (ev) {
        ev.preventDefault();
        CC.clearErrors(form);
        var kind = form.querySelector('input[name="kind"]:checked').value;
        var value = text.value.trim();
        if (!value) {
          CC.setStatus(status, 'error', [tr(panel, 'empty-text')]);
          text.focus();
          return;
        }
        send.disabled = true;
        var res;
        try { res = await CC.api('POST', lectureAPI(id) + '/chat', { kind: kind, text: value }); } catch (e) {
          send.disabled = false;
          CC.setStatus(status, 'error', [doc.body.getAttribute('data-msg-network')]);
          return;
        }
        send.disabled = closed;
        if (res.ok) {
          text.value = '';
          CC.setStatus(status, 'ok', [tr(panel, kind === 'question' ? 'asked' : 'sent')]);
          if (res.body) { render(res.body); empties(); }
          text.focus();
          return;
        }
        var p = res.body || {};
        if (res.status === 429) {
          CC.setStatus(status, 'error', [fill(tr(panel, 'wait'), { n: p.retry_after || 5 })]);
        } else if (res.status === 403 && p.retry_after) {
          CC.setStatus(status, 'error', [fill(tr(panel, 'muted-wait'), { n: Math.max(1, Math.ceil(p.retry_after / 60)) })]);
        } else {
          CC.showErrors(form, status, res);
        }
        text.focus();
      });
      // Ctrl+Enter (or ⌘+Enter) sends; Enter alone makes a new line.
      text.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
          ev.preventDefault();
          form.requestSubmit();
        }
      });
    }

    empties();
    return { connect: connect, close: close };
  }

  // ---- The live player (WHEP) ----------------------------------------------------------

  function livePlayer(root, id, onTrouble) {
    var video = doc.getElementById('live-video');
    var status = doc.getElementById('player-status');
    var sound = doc.getElementById('live-sound');
    var pc = null;
    var location = '';
    var wanted = false;
    var retry = null;
    var stall = null;
    var servers = null;

    function later(ms) {
      if (retry) clearTimeout(retry);
      retry = setTimeout(connect, ms);
    }

    function close(keepalive) {
      if (stall) clearTimeout(stall);
      stall = null;
      if (location) endSession(location, keepalive);
      location = '';
      if (pc) {
        pc.ontrack = null;
        pc.onconnectionstatechange = null;
        pc.close();
      }
      pc = null;
    }

    function played() {
      root.setAttribute('data-playing', '1');
      if (video.muted) {
        sound.hidden = false;
        say(status, tr(root, 'muted-autoplay'));
      } else {
        sound.hidden = true;
        say(status, tr(root, 'playing'));
      }
    }

    // play starts the stream with sound where the browser allows it, and otherwise muted
    // with the "sound on" button (browsers refuse sound before the visitor has clicked).
    function play() {
      var p = video.play();
      if (!p || !p.then) return;
      p.then(played, function () {
        video.muted = true;
        video.play().then(played, function () {
          sound.hidden = false;
          say(status, tr(root, 'press-play'));
        });
      });
    }

    sound.addEventListener('click', function () {
      video.muted = false;
      video.play().then(function () {
        sound.hidden = true;
        say(status, tr(root, 'sound-on'));
        video.focus(); // the button is gone: the focus goes to the player
      }, function () {});
    });

    // trouble: the connection is gone. The page checks the lecture's state (it may have
    // ended) and, while it is live, connects again.
    function trouble(words, ms) {
      close(false);
      say(status, words);
      if (onTrouble) onTrouble();
      if (wanted) later(ms);
    }

    async function connect() {
      if (retry) clearTimeout(retry);
      retry = null;
      if (!wanted) return;
      close(false);
      say(status, tr(root, 'connecting'));
      if (!servers) servers = await iceServers();
      if (!wanted) return;
      var conn = new RTCPeerConnection({ iceServers: servers });
      pc = conn;
      conn.addTransceiver('video', { direction: 'recvonly' });
      conn.addTransceiver('audio', { direction: 'recvonly' });
      var stream = new MediaStream();
      var started = false;
      conn.ontrack = function (ev) {
        stream.addTrack(ev.track);
        if (video.srcObject !== stream) video.srcObject = stream;
        if (!started) {
          started = true;
          play();
        }
      };
      conn.onconnectionstatechange = function () {
        if (pc !== conn) return;
        var st = conn.connectionState;
        if (st === 'connected') {
          if (stall) clearTimeout(stall);
          stall = null;
          if (!video.paused) played();
        } else if (st === 'disconnected') {
          say(status, tr(root, 'reconnecting'));
          if (!stall) stall = setTimeout(function () { if (pc === conn) trouble(tr(root, 'reconnecting'), 1000); }, 6000);
        } else if (st === 'failed' || st === 'closed') {
          trouble(tr(root, 'reconnecting'), 3000);
        }
      };
      try {
        await conn.setLocalDescription(await conn.createOffer());
        await gathered(conn, GATHER_WAIT);
        if (pc !== conn) return;
        var res = await sendSDP(lectureAPI(id) + '/whep', conn.localDescription.sdp);
        if (pc !== conn) {
          if (res.ok && res.location) endSession(res.location);
          return;
        }
        if (!res.ok) {
          if (res.status === 409 && res.body && res.body.type === '/problems/publisher_lost') {
            trouble(tr(root, 'lost'), 3000); // the lecturer's connection broke; the grace period runs
          } else if (res.status === 409 || res.status >= 500) {
            trouble(tr(root, 'waiting'), 5000); // no picture yet: the lecturer is connecting
          } else {
            close(false);
            say(status, tr(root, 'play-failed') + problemText(res));
          }
          return;
        }
        location = res.location;
        await conn.setRemoteDescription({ type: 'answer', sdp: res.text });
      } catch (e) {
        if (pc === conn) trouble(tr(root, 'play-failed') + ((e && e.message) || ''), 5000);
      }
    }

    window.addEventListener('pagehide', function () { close(true); });

    return {
      start: function () {
        if (wanted) return;
        wanted = true;
        connect();
      },
      stop: function () {
        wanted = false;
        if (retry) clearTimeout(retry);
        retry = null;
        close(false);
        video.srcObject = null;
        sound.hidden = true;
        root.removeAttribute('data-playing');
        say(status, '');
      }
    };
  }

  // ---- A lecture's page ----------------------------------------------------------------

  function initLecturePage(root) {
    var id = root.getAttribute('data-id');
    var state = root.getAttribute('data-state');
    var mayWatch = root.getAttribute('data-may-watch') === '1';
    var start = Date.parse(root.getAttribute('data-start') || '');
    var status = doc.getElementById('lecture-status');
    var tag = doc.getElementById('lecture-state');
    var countdown = doc.getElementById('lecture-countdown');
    var panel = doc.getElementById('chat-panel');
    var chat = panel ? initChat(panel) : null;
    var viewers = viewerCount(root, id);
    var player = mayWatch && doc.getElementById('live-video') ? livePlayer(root, id, function () { poll(); }) : null;
    var words = { live: tr(root, 'went-live'), ended: tr(root, 'ended'), replay_ready: tr(root, 'replay-ready'), cancelled: tr(root, 'cancelled') };

    function apply(st, lecture, announce) {
      var before = state;
      state = st;
      root.setAttribute('data-state', st);
      root.querySelectorAll('.state-panel').forEach(function (p) { p.hidden = p.getAttribute('data-when') !== st; });
      tag.textContent = stateName(root, st);
      tag.className = 'tag state-tag state-' + st;
      if (st === 'live') {
        if (chat) {
          panel.hidden = false;
          chat.connect();
        }
        if (player) player.start();
        viewers.start();
      } else {
        if (player) player.stop();
        viewers.stop();
        if (chat && before === 'live') chat.close();
      }
      var replay = doc.getElementById('replay-link');
      if (replay && lecture && lecture.replay_item) replay.href = '/memory/items/' + encodeURIComponent(lecture.replay_item);
      if (announce) say(status, words[st] || '');
    }

    async function poll() {
      var res;
      try { res = await CC.api('GET', lectureAPI(id)); } catch (e) { return; }
      if (res.ok && res.body && res.body.state && res.body.state !== state) apply(res.body.state, res.body, true);
    }

    // The state is read again every few seconds while something may change: often near the
    // start, during and right after the lecture; rarely when it is days away.
    function schedule() {
      if (state === 'replay_ready' || state === 'cancelled') return;
      var ms = state === 'scheduled' && start - Date.now() > 3600000 ? 60000 : 8000;
      setTimeout(function () { poll().then(schedule, schedule); }, ms);
    }

    function tickCountdown() {
      if (!countdown || state !== 'scheduled' || isNaN(start)) return;
      var left = Math.floor((start - Date.now()) / 60000);
      if (left <= 0) {
        countdown.textContent = tr(root, 'soon');
        return;
      }
      var d = Math.floor(left / 1440);
      var h = Math.floor((left % 1440) / 60);
      var m = left % 60;
      var parts = [];
      if (d) parts.push(fill(tr(root, 'days'), { n: d }));
      if (h || d) parts.push(fill(tr(root, 'hours'), { n: h }));
      if (!d) parts.push(fill(tr(root, 'minutes'), { n: Math.max(m, 1) }));
      countdown.textContent = fill(tr(root, 'countdown'), { time: parts.join(' ') });
    }

    tickCountdown();
    setInterval(tickCountdown, 30000);
    apply(state, null, false);
    schedule();
  }

  // ---- The studio (WHIP from the browser) ----------------------------------------------

  function initStudio(root) {
    var id = root.getAttribute('data-id');
    var whip = root.getAttribute('data-whip');
    var state = root.getAttribute('data-state');
    var video = doc.getElementById('studio-video');
    var previewButton = doc.getElementById('studio-preview');
    var previewStatus = doc.getElementById('preview-status');
    var cameraSelect = doc.getElementById('studio-camera');
    var micSelect = doc.getElementById('studio-mic');
    var useMic = doc.getElementById('studio-use-mic');
    var status = doc.getElementById('studio-status');
    var lectureStatus = doc.getElementById('lecture-status');
    var tag = doc.getElementById('lecture-state');
    var goLive = doc.getElementById('studio-go-live');
    var end = doc.getElementById('studio-end');
    var viewers = viewerCount(root, id);
    var chat = initChat(doc.getElementById('chat-panel'));
    var stream = null;
    var pc = null;
    var videoSender = null;
    var audioSender = null;
    var location = '';
    var live = false;

    chat.connect(); // the studio follows the chat from the start: questions may come early

    function source() { return doc.querySelector('input[name="source"]:checked').value; }

    function fillSelect(select, devices, first) {
      var keep = select.value;
      select.textContent = '';
      var o = CC.el('option', first);
      o.value = '';
      select.appendChild(o);
      devices.forEach(function (d, i) {
        if (!d.deviceId) return;
        var opt = CC.el('option', d.label || first + ' ' + (i + 1));
        opt.value = d.deviceId;
        select.appendChild(opt);
      });
      select.value = keep;
      if (select.value !== keep) select.value = '';
    }

    async function listDevices() {
      var md = navigator.mediaDevices;
      if (!md || !md.enumerateDevices) return;
      var devices = [];
      try { devices = await md.enumerateDevices(); } catch (e) { return; }
      fillSelect(cameraSelect, devices.filter(function (d) { return d.kind === 'videoinput'; }), tr(root, 'camera-default'));
      fillSelect(micSelect, devices.filter(function (d) { return d.kind === 'audioinput'; }), tr(root, 'mic-default'));
    }

    function ownError(words) {
      var e = new Error(words);
      e.own = true;
      return e;
    }

    function screenEnded() {
      if (stream && stream.getVideoTracks().every(function (t) { return t.readyState === 'ended'; })) {
        CC.setStatus(previewStatus, 'error', [tr(root, 'screen-ended')]);
      }
    }

    async function openMedia() {
      var md = navigator.mediaDevices;
      if (!md || !md.getUserMedia) throw ownError(tr(root, 'no-media'));
      var mic = false;
      if (useMic.checked) {
        mic = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
        if (micSelect.value) mic.deviceId = { exact: micSelect.value };
      }
      var out;
      if (source() === 'screen') {
        if (!md.getDisplayMedia) throw ownError(tr(root, 'no-screen'));
        out = await md.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
        if (mic) {
          var sound = await md.getUserMedia({ audio: mic });
          sound.getAudioTracks().forEach(function (t) { out.addTrack(t); });
        }
        out.getVideoTracks().forEach(function (t) {
          t.contentHint = 'detail'; // slides: sharp text before smooth motion
          t.addEventListener('ended', screenEnded);
        });
      } else {
        var cam = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } };
        if (cameraSelect.value) cam.deviceId = { exact: cameraSelect.value };
        out = await md.getUserMedia({ video: cam, audio: mic });
        out.getVideoTracks().forEach(function (t) { t.contentHint = 'motion'; });
      }
      return out;
    }

    function stopStream() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      video.srcObject = null;
    }

    // preview opens the chosen camera or screen; while live it swaps the tracks being sent,
    // so the lecturer can move between camera and slides without stopping.
    async function preview() {
      previewButton.disabled = true;
      try {
        var next = await openMedia();
        // (A microphone turned on only now is not sent: that would need a new offer.)
        if (videoSender) await videoSender.replaceTrack(next.getVideoTracks()[0] || null);
        if (audioSender) await audioSender.replaceTrack(next.getAudioTracks()[0] || null);
        var old = stream;
        stream = next;
        if (old) old.getTracks().forEach(function (t) { t.stop(); });
        video.srcObject = stream;
        video.play().catch(function () {});
        root.setAttribute('data-previewing', '1');
        CC.setStatus(previewStatus, 'ok', [tr(root, 'previewing')]);
        listDevices();
      } catch (e) {
        CC.setStatus(previewStatus, 'error', [e && e.own ? e.message : tr(root, 'denied') + ((e && (e.message || e.name)) || '')]);
      }
      previewButton.disabled = false;
    }

    function closePC() {
      if (pc) {
        pc.onconnectionstatechange = null;
        pc.close();
      }
      pc = null;
      videoSender = audioSender = null;
    }

    function setLive(on) {
      live = on;
      root.setAttribute('data-live', on ? '1' : '');
      end.disabled = !on && !location;
      goLive.disabled = on || !(state === 'scheduled' || state === 'live');
      if (on) viewers.start();
    }

    async function startBroadcast() {
      goLive.disabled = true;
      if (!stream) await preview();
      if (!stream) {
        goLive.disabled = false;
        return;
      }
      say(status, tr(root, 'connecting'));
      try {
        var conn = new RTCPeerConnection({ iceServers: await iceServers() });
        pc = conn;
        var v = stream.getVideoTracks()[0];
        var a = stream.getAudioTracks()[0];
        var vt = conn.addTransceiver(v || 'video', { direction: 'sendonly', streams: [stream], sendEncodings: [{ maxBitrate: 2500000 }] });
        videoSender = vt.sender;
        preferH264(vt);
        if (a) audioSender = conn.addTransceiver(a, { direction: 'sendonly', streams: [stream] }).sender;
        conn.onconnectionstatechange = function () {
          if (pc !== conn) return;
          var st = conn.connectionState;
          if (st === 'connected') {
            setLive(true);
            say(status, tr(root, 'live'));
          } else if (st === 'disconnected') {
            say(status, tr(root, 'reconnecting'));
          } else if (st === 'failed' || st === 'closed') {
            closePC();
            location = '';
            setLive(false);
            say(status, tr(root, 'failed') + tr(root, 'reconnecting'));
          }
        };
        await conn.setLocalDescription(await conn.createOffer());
        await gathered(conn, GATHER_WAIT);
        if (pc !== conn) return;
        var res = await sendSDP(whip, conn.localDescription.sdp);
        if (!res.ok) {
          closePC();
          setLive(false);
          say(status, tr(root, 'failed') + problemText(res));
          goLive.focus();
          return;
        }
        location = res.location;
        end.disabled = false;
        await conn.setRemoteDescription({ type: 'answer', sdp: res.text });
        var codec = codecOf(res.text);
        root.setAttribute('data-codec', codec);
        doc.getElementById('studio-codec').textContent = codec ? fill(tr(root, 'codec'), { codec: codec }) : '';
      } catch (e) {
        closePC();
        setLive(false);
        say(status, tr(root, 'failed') + ((e && e.message) || ''));
      }
    }

    async function endBroadcast() {
      end.disabled = true;
      say(status, tr(root, 'ending'));
      var loc = location;
      location = '';
      // Ending the lecture itself ends it at once; deleting only the session would leave
      // the grace period meant for an encoder that restarts.
      try { await CC.api('POST', lectureAPI(id) + '/end'); } catch (e) { /* the session delete below still ends it */ }
      if (loc) await endSession(loc, false);
      closePC();
      stopStream();
      root.removeAttribute('data-previewing');
      setLive(false);
      say(status, tr(root, 'ended'));
      (goLive.disabled ? previewButton : goLive).focus(); // the pressed button is disabled now
      poll();
    }

    async function poll() {
      var res;
      try { res = await CC.api('GET', lectureAPI(id)); } catch (e) { return; }
      if (!res.ok || !res.body || !res.body.state || res.body.state === state) return;
      state = res.body.state;
      root.setAttribute('data-state', state);
      tag.textContent = stateName(root, state);
      tag.className = 'tag state-tag state-' + state;
      say(lectureStatus, fill(tr(root, 'state-now'), { state: stateName(root, state) }));
      if (!live) goLive.disabled = !(state === 'scheduled' || state === 'live');
      if (state === 'live') viewers.start();
    }
    setInterval(poll, 8000);
    if (state === 'live') viewers.start();

    previewButton.addEventListener('click', preview);
    goLive.addEventListener('click', startBroadcast);
    // Ending is final (the lecture cannot go live again): ask first.
    var endConfirm = doc.getElementById('end-confirm');
    end.addEventListener('click', function () {
      endConfirm.hidden = false;
      doc.getElementById('end-yes').focus();
    });
    doc.getElementById('end-no').addEventListener('click', function () {
      endConfirm.hidden = true;
      end.focus();
    });
    doc.getElementById('end-yes').addEventListener('click', function () {
      endConfirm.hidden = true;
      endBroadcast();
    });
    window.addEventListener('beforeunload', function (ev) {
      if (!live) return;
      ev.preventDefault();
      ev.returnValue = tr(root, 'leave');
    });

    var rotate = doc.getElementById('key-rotate');
    if (rotate) {
      var keyStatus = doc.getElementById('key-status');
      rotate.addEventListener('click', async function () {
        rotate.disabled = true;
        var res;
        try { res = await CC.api('POST', lectureAPI(id) + '/key'); } catch (e) {
          rotate.disabled = false;
          CC.setStatus(keyStatus, 'error', [doc.body.getAttribute('data-msg-network')]);
          return;
        }
        rotate.disabled = false;
        if (!res.ok || !res.body || !res.body.stream_key) {
          CC.setStatus(keyStatus, 'error', CC.problemLines(res));
          return;
        }
        var input = doc.getElementById('key-value');
        input.value = res.body.stream_key;
        doc.getElementById('key-box').hidden = false;
        CC.setStatus(keyStatus, 'ok', [tr(root, 'key-made')]);
        input.focus();
        input.select();
      });
    }
  }

  // ---- The lecture console's form ------------------------------------------------------

  function initConsoleLecture(root) {
    var form = doc.getElementById('lecture-form');
    var region = doc.getElementById('lecture-form-status');
    var save = doc.getElementById('lecture-save');
    var id = root.getAttribute('data-id');
    var version = root.getAttribute('data-version');
    var cover = parse(root.getAttribute('data-cover') || 'null');

    function field(name) { return form.querySelector('[name="' + name + '"]'); }

    // The clock beside the start runs from the server's time, not the computer's (which may
    // be wrong or in another zone); Beijing keeps UTC+8 all year.
    var nowClock = doc.getElementById('lecture-now');
    if (nowClock) {
      var serverNow = Date.parse(nowClock.getAttribute('datetime'));
      var loadedAt = Date.now();
      var pad = function (n) { return (n < 10 ? '0' : '') + n; };
      setInterval(function () {
        var b = new Date(serverNow + (Date.now() - loadedAt) + 8 * 3600 * 1000);
        nowClock.textContent = b.getUTCFullYear() + '-' + pad(b.getUTCMonth() + 1) + '-' + pad(b.getUTCDate()) + ' ' +
          pad(b.getUTCHours()) + ':' + pad(b.getUTCMinutes());
      }, 10000);
    }

    // The form's start is a datetime-local in Beijing time; the API takes RFC 3339.
    function startValue() {
      var v = field('start').value;
      if (!v) return undefined;
      if (v.length === 16) v += ':00';
      return v + '+08:00';
    }

    function input() {
      return {
        title: field('title').value,
        lecturer: { account: field('lecturer.account').value, name: field('lecturer.name').value },
        unit: field('unit').value,
        start: startValue(),
        duration_minutes: parseInt(field('duration_minutes').value, 10) || 0,
        description: field('description').value,
        visibility: field('visibility').value,
        cover: cover || undefined
      };
    }

    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      CC.clearErrors(form);
      save.disabled = true;
      CC.setStatus(region, 'info', [tr(root, 'saving')]);
      var res;
      try {
        res = id ? await CC.api('PUT', lectureAPI(id), input(), { 'If-Match': CC.quoted(version) }) : await CC.api('POST', '/api/v1/lectures', input());
      } catch (e) {
        save.disabled = false;
        CC.setStatus(region, 'error', [doc.body.getAttribute('data-msg-network')]);
        return;
      }
      save.disabled = false;
      if (res.ok && res.body && !id) {
        created(res.body);
        return;
      }
      if (res.ok) {
        version = CC.versionOf(res.etag) || version;
        root.setAttribute('data-version', version);
        CC.setStatus(region, 'ok', [tr(root, 'saved')]);
        return;
      }
      if (res.status === 412) {
        CC.setStatus(region, 'error', [tr(root, 'stale')]);
        return;
      }
      CC.showErrors(form, region, res);
    });

    // created shows the new lecture's stream key (this once) and the way to the studio;
    // the address becomes the lecture's editor, so a reload does not make a second one.
    function created(l) {
      var panel = doc.getElementById('lecture-created');
      doc.getElementById('created-key').value = l.stream_key || '';
      doc.getElementById('created-studio-link').href = '/studio/lectures/' + encodeURIComponent(l.id);
      doc.getElementById('created-page-link').href = '/lectures/' + encodeURIComponent(l.id);
      root.setAttribute('data-id', l.id);
      form.hidden = true;
      panel.hidden = false;
      panel.focus();
      if (window.history && history.replaceState) history.replaceState(null, '', '/console/lectures/' + encodeURIComponent(l.id));
    }

    var cancel = doc.getElementById('lecture-cancel');
    if (cancel) {
      var confirmBox = doc.getElementById('cancel-confirm');
      cancel.addEventListener('click', function () {
        confirmBox.hidden = false;
        doc.getElementById('cancel-yes').focus();
      });
      doc.getElementById('cancel-no').addEventListener('click', function () {
        confirmBox.hidden = true;
        cancel.focus();
      });
      doc.getElementById('cancel-yes').addEventListener('click', async function () {
        var res = await CC.api('POST', lectureAPI(id) + '/cancel', undefined, { 'If-Match': CC.quoted(version) });
        if (res.ok) {
          CC.setStatus(region, 'ok', [tr(root, 'cancelled')]);
          window.location.reload();
          return;
        }
        confirmBox.hidden = true;
        CC.setStatus(region, 'error', res.status === 412 ? [tr(root, 'stale')] : CC.problemLines(res));
        cancel.focus();
      });
    }
  }

  // ---- Copy buttons --------------------------------------------------------------------

  async function copy(button) {
    var input = doc.getElementById(button.getAttribute('data-copy'));
    var region = doc.getElementById(button.getAttribute('data-status'));
    var texts = button.closest('[data-t-copied]');
    if (!input) return;
    input.focus();
    input.select();
    var ok = false;
    try {
      await navigator.clipboard.writeText(input.value);
      ok = true;
    } catch (e) {
      try { ok = doc.execCommand('copy'); } catch (e2) { ok = false; }
    }
    CC.setStatus(region, ok ? 'ok' : 'error', [tr(texts, ok ? 'copied' : 'copy-failed')]);
    button.focus();
  }

  function init() {
    var page = doc.getElementById('lecture-page');
    if (page) initLecturePage(page);
    var studio = doc.getElementById('studio');
    if (studio) initStudio(studio);
    var consoleForm = doc.getElementById('console-lecture');
    if (consoleForm) initConsoleLecture(consoleForm);
    doc.addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-copy]');
      if (b) copy(b);
    });
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
