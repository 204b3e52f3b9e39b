// Online art courses: the course page (enrol), the lesson player (HLS through hls.js or the
// browser, quality, speed, captions, keyboard, saved position) and the lecturers' course
// editor (lessons uploaded with progress, transcoding progress, reordering, publishing).
// Requests, forms and uploads come from library.js (window.CC), loaded before this file.
(function () {
  'use strict';

  var doc = document;
  var CC = window.CC;

  function tr(root, name) { return (root && root.getAttribute('data-t-' + name)) || ''; }
  function fill(template, values) {
    var out = template || '';
    Object.keys(values).forEach(function (k) { out = out.split('{' + k + '}').join(String(values[k])); });
    return out;
  }
  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var r = s % 60;
    var mm = (h && m < 10 ? '0' : '') + m;
    return (h ? h + ':' : '') + mm + ':' + (r < 10 ? '0' : '') + r;
  }
  function courseAPI(id) { return '/api/v1/courses/' + encodeURIComponent(id); }

  // ---- Course page -------------------------------------------------------------------

  function initCoursePage(root) {
    var button = doc.getElementById('enrol-button');
    if (!button) return;
    button.addEventListener('click', async function () {
      button.disabled = true;
      var res = await CC.api('POST', courseAPI(root.getAttribute('data-id')) + '/enrol');
      if (res.ok) {
        CC.setStatus(doc.getElementById('course-status'), 'ok', [tr(root, 'enrolled')]);
        window.location.reload();
        return;
      }
      button.disabled = false;
      CC.setStatus(doc.getElementById('course-status'), 'error', CC.problemLines(res));
    });
  }

  // ---- Lesson player -----------------------------------------------------------------

  var SAVE_EVERY = 5000; // ms between position reports while playing
  var SPEEDS = [0.75, 1, 1.25, 1.5, 2];

  function initLesson(root) {
    var media = doc.getElementById('lesson-media');
    if (!media) return;
    var course = root.getAttribute('data-course');
    var n = root.getAttribute('data-n');
    var stream = root.getAttribute('data-stream');
    var resume = parseFloat(root.getAttribute('data-resume')) || 0;
    var save = root.getAttribute('data-save') === '1';
    var status = doc.getElementById('player-status');
    var quality = doc.getElementById('player-quality');
    var speed = doc.getElementById('player-speed');
    var captions = doc.getElementById('player-captions');
    var hls = null;

    function say(text) { status.textContent = text; }

    // Streams: hls.js where Media Source Extensions exist (it offers the quality switch),
    // the browser's own HLS where that is all there is (Safari on iOS), and otherwise the
    // original file that the <source> list already names.
    if (stream && window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({ startPosition: resume > 1 ? resume : -1, capLevelToPlayerSize: true });
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
        hls.levels.forEach(function (l, i) {
          var o = doc.createElement('option');
          o.value = String(i);
          o.textContent = l.height ? l.height + 'p' : Math.round(l.bitrate / 1000) + ' kbit/s';
          quality.appendChild(o);
        });
        quality.disabled = hls.levels.length < 2;
      });
      hls.on(window.Hls.Events.ERROR, function (ev, data) {
        if (!data.fatal) return;
        if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) { hls.startLoad(); return; }
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
        say(tr(root, 'error'));
        hls.destroy();
        hls = null;
        media.removeAttribute('src');
        media.load(); // back to the <source> list: the original file
      });
      hls.loadSource(stream);
      hls.attachMedia(media);
      root.setAttribute('data-engine', 'hls.js');
    } else {
      root.setAttribute('data-engine', stream && media.canPlayType('application/vnd.apple.mpegurl') ? 'native' : 'file');
      media.addEventListener('loadedmetadata', function () {
        if (resume > 1 && resume < media.duration - 1) media.currentTime = resume;
      }, { once: true });
    }
    if (resume > 1) say(fill(tr(root, 'resumed'), { time: clock(resume) }));

    quality.addEventListener('change', function () {
      if (!hls) return;
      var level = parseInt(quality.value, 10);
      hls.currentLevel = level;
      say(fill(tr(root, 'quality'), { q: quality.options[quality.selectedIndex].textContent }));
    });

    function setSpeed(v) {
      media.playbackRate = v;
      speed.value = String(v);
      say(fill(tr(root, 'speed'), { x: v }));
    }
    speed.addEventListener('change', function () { setSpeed(parseFloat(speed.value) || 1); });

    var lastLang = '';
    function showCaptions(langCode) {
      Array.prototype.forEach.call(media.textTracks || [], function (t) {
        if (t.kind === 'captions' || t.kind === 'subtitles') t.mode = langCode && t.language === langCode ? 'showing' : 'disabled';
      });
      captions.value = langCode;
      if (langCode) lastLang = langCode;
      say(langCode ? fill(tr(root, 'captions'), { lang: captions.options[captions.selectedIndex].textContent }) : tr(root, 'captions-off'));
    }
    captions.addEventListener('change', function () { showCaptions(captions.value); });

    // Position reports: every few seconds while playing, and at once on pause, seek and end.
    // Each answers with the learner's whole progress, or null when nothing was sent.
    var lastReport = 0;
    var reported = -1;
    function report(now, keepalive) {
      if (!save) return Promise.resolve(null);
      var d = media.duration;
      if (!isFinite(d) || d <= 0) return Promise.resolve(null);
      var pos = Math.min(media.currentTime, d);
      if (!now && Math.abs(pos - reported) < 1) return Promise.resolve(null);
      reported = pos;
      lastReport = Date.now();
      var url = courseAPI(course) + '/lessons/' + n + '/progress';
      var body = { position: Math.round(pos * 10) / 10, duration: Math.round(d * 10) / 10 };
      if (keepalive) {
        var meta = doc.querySelector('meta[name="csrf-token"]');
        fetch(url, {
          method: 'PUT', keepalive: true, credentials: 'same-origin', body: JSON.stringify(body),
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': meta ? meta.getAttribute('content') : '' }
        }).catch(function () {});
        return Promise.resolve(null);
      }
      return CC.api('PUT', url, body).then(function (res) {
        if (!res.ok) { say(tr(root, 'save-failed')); return null; }
        root.setAttribute('data-saved', String(body.position));
        // Completion during playback is worth a word; at the end the end panel speaks.
        if (res.body && res.body.lesson_completed && !media.ended) say(tr(root, 'lesson-done'));
        return (res.body && res.body.progress) || null;
      }, function () { say(tr(root, 'save-failed')); return null; });
    }

    // showEnd shows the one thing that follows the lesson: the certificate when the course
    // is complete, else the next lesson, else the way to a lesson still to complete; with
    // how many remain. A guest (no progress) is offered the next lesson or the course.
    var end = doc.getElementById('lesson-end');
    function showEnd(progress) {
      var total = parseInt(end.getAttribute('data-lessons'), 10) || 0;
      var next = end.getAttribute('data-next');
      var title = doc.getElementById('lesson-end-title');
      var text = doc.getElementById('lesson-end-text');
      var action = doc.getElementById('lesson-end-action');
      var headline = tr(end, 'ended');
      var detail = '';
      var href = next || end.getAttribute('data-course-url');
      var label = next ? fill(tr(end, 'next'), { title: end.getAttribute('data-next-label') }) : tr(end, 'all');
      action.removeAttribute('id');
      if (progress) {
        var lessons = progress.lessons || {};
        var left = 0;
        var open = -1;
        for (var i = 0; i < total; i++) {
          var lp = lessons[String(i)];
          if (lp && lp.completed_at) continue;
          left++;
          if (open < 0 || (open < +n && i > +n)) open = i; // the first still to do after this one, else before
        }
        var thisDone = !!(lessons[String(n)] && lessons[String(n)].completed_at);
        headline = thisDone ? tr(end, 'lesson-done') : tr(end, 'not-done');
        if (progress.completed_at) {
          headline = tr(end, 'course-done');
          href = end.getAttribute('data-certificate');
          label = tr(end, 'certificate');
          action.id = 'certificate-link';
        } else {
          detail = fill(tr(end, 'left'), { n: left });
          if (!next && open >= 0) {
            href = '/courses/' + encodeURIComponent(course) + '/lessons/' + open;
            label = tr(end, 'continue');
            action.id = 'continue-link';
          }
        }
      }
      if (next && action.id === '') action.id = 'end-next-lesson';
      title.textContent = headline;
      text.textContent = detail;
      text.hidden = !detail;
      action.href = href;
      action.textContent = label;
      end.hidden = false;
      say(headline + (detail ? ' ' + detail : ''));
    }

    media.addEventListener('timeupdate', function () {
      if (!media.paused && Date.now() - lastReport >= SAVE_EVERY) report(false);
    });
    media.addEventListener('pause', function () { if (!media.ended) { report(true); say(tr(root, 'paused')); } });
    media.addEventListener('seeked', function () { report(true); });
    media.addEventListener('ended', function () { report(true).then(showEnd); });
    media.addEventListener('play', function () { end.hidden = true; });
    window.addEventListener('pagehide', function () { if (!media.paused) report(true, true); });
    doc.addEventListener('visibilitychange', function () { if (doc.visibilityState === 'hidden' && !media.paused) report(true, true); });

    var counted = false;
    media.addEventListener('play', function () {
      say(tr(root, 'playing'));
      if (counted) return;
      counted = true;
      CC.api('POST', courseAPI(course) + '/lessons/' + n + '/plays').catch(function () {});
    });

    // Keyboard: the usual player keys, wherever the focus is except in a form control. With
    // the focus on the media element, the browser's own controls act on some of the same keys
    // (Space on keyup, the arrows): the page's handler runs first (capture) and keeps the
    // keys it handles from them, so that no key acts twice.
    var keysDown = {};
    doc.addEventListener('keydown', function (ev) {
      var t = ev.target;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (t && t !== media && /^(INPUT|SELECT|TEXTAREA|BUTTON|A|SUMMARY)$/.test(t.tagName)) return;
      var handled = true;
      switch (ev.key) {
        case ' ': case 'k': case 'K':
          if (media.paused) media.play().catch(function () {}); else media.pause();
          break;
        case 'ArrowLeft': case 'j': case 'J':
          media.currentTime = Math.max(0, media.currentTime - (ev.key === 'ArrowLeft' ? 5 : 10));
          say(fill(tr(root, 'seek'), { time: clock(media.currentTime) }));
          break;
        case 'ArrowRight': case 'l': case 'L':
          media.currentTime = Math.min(media.duration || 0, media.currentTime + (ev.key === 'ArrowRight' ? 5 : 10));
          say(fill(tr(root, 'seek'), { time: clock(media.currentTime) }));
          break;
        case 'ArrowUp': case 'ArrowDown':
          media.muted = false;
          media.volume = Math.min(1, Math.max(0, Math.round((media.volume + (ev.key === 'ArrowUp' ? 0.1 : -0.1)) * 10) / 10));
          say(fill(tr(root, 'volume'), { n: Math.round(media.volume * 100) }));
          break;
        case 'm': case 'M':
          media.muted = !media.muted;
          say(media.muted ? tr(root, 'muted') : fill(tr(root, 'volume'), { n: Math.round(media.volume * 100) }));
          break;
        case 'c': case 'C':
          if (!captions.disabled) showCaptions(captions.value ? '' : (lastLang || (captions.options[1] && captions.options[1].value) || ''));
          break;
        case '<': case '>':
          var i = SPEEDS.indexOf(media.playbackRate);
          if (i < 0) i = 1;
          setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, i + (ev.key === '>' ? 1 : -1)))]);
          break;
        case 'f': case 'F':
          var box = doc.getElementById('player');
          if (doc.fullscreenElement) doc.exitFullscreen().catch(function () {});
          else if (box.requestFullscreen) box.requestFullscreen().catch(function () {});
          break;
        default:
          handled = false;
      }
      if (!handled) return;
      ev.preventDefault();
      if (t === media) { ev.stopPropagation(); keysDown[ev.key] = true; }
    }, true);
    ['keypress', 'keyup'].forEach(function (type) {
      doc.addEventListener(type, function (ev) {
        if (ev.target !== media || !keysDown[ev.key]) return;
        if (type === 'keyup') delete keysDown[ev.key];
        ev.preventDefault();
        ev.stopPropagation();
      }, true);
    });
  }

  // ---- Lecturers' course editor ------------------------------------------------------

  function initConsoleCourse(root) {
    var state = {
      id: root.getAttribute('data-id'),
      version: root.getAttribute('data-version'),
      status: root.getAttribute('data-status'),
      lessons: []
    };
    try { state.lessons = JSON.parse(root.getAttribute('data-lessons') || '[]') || []; } catch (e) { state.lessons = []; }
    var cover = null;
    try { cover = JSON.parse(root.getAttribute('data-cover') || 'null'); } catch (e) { cover = null; }
    var form = doc.getElementById('course-form');
    var region = doc.getElementById('course-form-status');
    var list = doc.getElementById('lesson-editor');
    var media = {}; // item id → transcoding state, by file path

    function field(name) { return form.querySelector('[name="' + name + '"]'); }

    function render(focusIndex, focusAction) {
      list.textContent = '';
      if (!state.lessons.length) {
        list.appendChild(CC.el('li', tr(root, 'no-lessons'), 'muted'));
        return;
      }
      state.lessons.forEach(function (l, i) {
        var li = CC.el('li', null, 'lesson-edit');
        li.setAttribute('data-index', String(i));
        var id = 'lesson-title-' + i;
        var label = CC.el('label', fill(tr(root, 'lesson-title'), { n: i + 1 }));
        label.setAttribute('for', id);
        var input = CC.el('input');
        input.id = id;
        input.value = l.title || '';
        input.maxLength = 100;
        input.setAttribute('data-field', 'lessons[' + i + '].title');
        input.addEventListener('input', function () { l.title = input.value; });
        li.appendChild(label);
        li.appendChild(input);
        var m = CC.el('p', fill(tr(root, 'media'), { name: l.media.name || l.media.path, item: l.media.item }), 'muted lesson-media-name');
        li.appendChild(m);
        var st = CC.el('p', '', 'lesson-transcode');
        st.setAttribute('aria-live', 'polite');
        li.appendChild(st);
        showMedia(l, st);
        var actions = CC.el('div', null, 'lesson-actions');
        [['up', -1], ['down', 1]].forEach(function (pair) {
          var b = CC.el('button', tr(root, pair[0]));
          b.type = 'button';
          b.className = 'lesson-' + pair[0];
          b.setAttribute('aria-label', tr(root, pair[0]) + ' ' + (l.title || i + 1));
          b.disabled = pair[1] < 0 ? i === 0 : i === state.lessons.length - 1;
          b.addEventListener('click', function () { move(i, pair[1], pair[0]); });
          actions.appendChild(b);
        });
        var rm = CC.el('button', tr(root, 'remove'));
        rm.type = 'button';
        rm.className = 'lesson-remove';
        rm.setAttribute('aria-label', tr(root, 'remove') + ' ' + (l.title || i + 1));
        rm.addEventListener('click', function () { state.lessons.splice(i, 1); render(); });
        actions.appendChild(rm);
        li.appendChild(actions);
        li.appendChild(attachmentsEditor(l, i));
        list.appendChild(li);
      });
      if (typeof focusIndex === 'number') {
        var target = list.querySelector('li[data-index="' + focusIndex + '"] .lesson-' + focusAction);
        if (!target || target.disabled) target = list.querySelector('li[data-index="' + focusIndex + '"] input');
        if (target) target.focus();
      }
    }

    // attachmentsEditor lists a lesson's attachments (scores, worksheets) with a remove
    // button each, and adds the files of a library item given by its id.
    function attachmentsEditor(l, i) {
      var box = CC.el('div', null, 'lesson-attachments');
      l.attachments = l.attachments || [];
      if (l.attachments.length) {
        var ul = CC.el('ul');
        l.attachments.forEach(function (a, j) {
          var item = CC.el('li', a.name || a.path);
          var b = CC.el('button', tr(root, 'remove'));
          b.type = 'button';
          b.setAttribute('aria-label', tr(root, 'remove') + ' ' + (a.name || a.path));
          b.addEventListener('click', function () { l.attachments.splice(j, 1); render(i, 'up'); });
          item.appendChild(document.createTextNode(' '));
          item.appendChild(b);
          ul.appendChild(item);
        });
        box.appendChild(ul);
      }
      var id = 'lesson-attachment-' + i;
      var label = CC.el('label', fill(tr(root, 'attachment'), { n: i + 1 }));
      label.setAttribute('for', id);
      var input = CC.el('input');
      input.id = id;
      input.maxLength = 64;
      input.placeholder = 'szm-…';
      input.autocomplete = 'off';
      var add = CC.el('button', tr(root, 'add'));
      add.type = 'button';
      add.addEventListener('click', async function () {
        var itemID = input.value.trim();
        if (!itemID) return;
        var got = await CC.api('GET', '/api/v1/items/' + encodeURIComponent(itemID));
        var files = (got.ok && got.body && got.body.files) || [];
        if (!files.length) { CC.setStatus(region, 'error', [tr(root, 'pick-failed')].concat(got.ok ? [] : CC.problemLines(got))); return; }
        files.forEach(function (f) { l.attachments.push({ item: itemID, path: f.path, name: f.name }); });
        render(i, 'up');
      });
      box.appendChild(label);
      var row = CC.el('div', null, 'search-row');
      row.appendChild(input);
      row.appendChild(add);
      box.appendChild(row);
      return box;
    }

    function move(i, by, action) {
      var j = i + by;
      if (j < 0 || j >= state.lessons.length) return;
      var l = state.lessons.splice(i, 1)[0];
      state.lessons.splice(j, 0, l);
      render(j, action);
      CC.setStatus(region, 'ok', [fill(tr(root, 'moved-lesson'), { title: l.title, n: j + 1 })]);
    }

    function showMedia(l, node) {
      var m = media[l.media.item] && media[l.media.item][l.media.path];
      if (!m) { node.textContent = ''; return; }
      if (m.state === 'done') node.textContent = tr(root, 'transcoded');
      else if (m.state === 'failed') node.textContent = tr(root, 'transcode-failed') + ' ' + (m.error || '');
      else node.textContent = fill(tr(root, 'transcoding'), { n: Math.floor(m.percent || 0), eta: m.eta || '…' });
    }

    // watchMedia polls the transcoding state of the lessons' items until every one is done.
    var watching = false;
    async function watchMedia() {
      if (watching) return;
      watching = true;
      for (var round = 0; round < 2000; round++) {
        var pending = false;
        var items = {};
        state.lessons.forEach(function (l) { items[l.media.item] = true; });
        for (var item in items) {
          var res = await CC.api('GET', '/api/v1/items/' + encodeURIComponent(item) + '/media');
          if (!res.ok || !res.body) continue;
          media[item] = res.body.files || {};
          Object.keys(media[item]).forEach(function (p) {
            var st = media[item][p].state;
            if (st !== 'done' && st !== 'failed') pending = true;
          });
        }
        list.querySelectorAll('li[data-index]').forEach(function (li) {
          var l = state.lessons[parseInt(li.getAttribute('data-index'), 10)];
          if (l) showMedia(l, li.querySelector('.lesson-transcode'));
        });
        if (!pending) break;
        await CC.sleep(2000);
      }
      watching = false;
    }

    function input() {
      return {
        title: field('title').value, category: field('category').value, level: field('level').value,
        lecturer: field('lecturer').value, unit: field('unit').value, description: field('description').value,
        institution: { name: field('institution.name').value, kind: field('institution.kind').value },
        allow_guests: field('allow_guests').checked, cover: cover || undefined,
        lessons: state.lessons.map(function (l) { return { title: l.title, media: l.media, attachments: l.attachments || [] }; })
      };
    }

    async function save() {
      CC.clearErrors(form);
      var res;
      if (!state.id) {
        res = await CC.api('POST', '/api/v1/courses', input());
        if (res.ok && res.body) {
          window.location.assign('/console/courses/' + encodeURIComponent(res.body.id) + '?created=1');
          return res;
        }
      } else {
        res = await CC.api('PUT', courseAPI(state.id), input(), { 'If-Match': CC.quoted(state.version) });
        if (res.ok) {
          state.version = CC.versionOf(res.etag) || state.version;
          root.setAttribute('data-version', state.version);
          CC.setStatus(region, 'ok', [tr(root, 'saved')]);
          return res;
        }
      }
      if (res.status === 409 || res.status === 412) {
        CC.setStatus(region, 'error', [tr(root, 'stale')]);
        return res;
      }
      CC.showErrors(form, region, res);
      return res;
    }

    form.addEventListener('submit', function (ev) { ev.preventDefault(); save(); });

    // moveItem moves a lesson's library item one step, with its current version.
    async function moveItem(id, to) {
      var got = await CC.api('GET', '/api/v1/items/' + encodeURIComponent(id));
      if (!got.ok || !got.body) return got;
      if (got.body.status === to) return got;
      return CC.api('POST', '/api/v1/items/' + encodeURIComponent(id) + '/status', { status: to }, { 'If-Match': got.etag });
    }

    async function moveCourse(to) {
      var res = await CC.api('POST', courseAPI(state.id) + '/status', { status: to }, { 'If-Match': CC.quoted(state.version) });
      if (res.ok) state.version = CC.versionOf(res.etag) || state.version;
      return res;
    }

    // Publishing a course publishes its lessons' items first, since citizens may only play
    // published items; every step goes through the same workflow as in the library console.
    async function publish() {
      CC.setStatus(region, 'ok', [tr(root, 'publishing')]);
      var saved = await save();
      if (!saved || !saved.ok) return;
      var seen = {};
      for (var i = 0; i < state.lessons.length; i++) {
        var item = state.lessons[i].media.item;
        if (seen[item]) continue;
        seen[item] = true;
        var got = await CC.api('GET', '/api/v1/items/' + encodeURIComponent(item));
        if (!got.ok || !got.body) { CC.setStatus(region, 'error', CC.problemLines(got)); return; }
        var path = { draft: ['in_review', 'published'], in_review: ['published'], withdrawn: ['published'] }[got.body.status] || [];
        for (var k = 0; k < path.length; k++) {
          var res = await moveItem(item, path[k]);
          if (!res.ok) { CC.setStatus(region, 'error', CC.problemLines(res)); return; }
        }
      }
      var steps = { draft: ['in_review', 'published'], in_review: ['published'], withdrawn: ['published'] }[state.status] || [];
      for (var s = 0; s < steps.length; s++) {
        var moved = await moveCourse(steps[s]);
        if (!moved.ok) { CC.showErrors(form, region, moved); return; }
      }
      CC.setStatus(region, 'ok', [tr(root, 'published')]);
      window.location.reload();
    }

    root.addEventListener('click', async function (ev) {
      var b = ev.target.closest('.course-move');
      if (!b || !state.id) return;
      var to = b.getAttribute('data-to');
      b.disabled = true;
      if (to === 'published') {
        await publish();
      } else {
        var res = await moveCourse(to);
        if (res.ok) window.location.reload(); else CC.showErrors(form, region, res);
      }
      b.disabled = false;
    });

    // Lessons from uploads: each file becomes a draft library item of the course's unit,
    // uploaded in parts, attached, added to the lessons and saved; transcoding follows.
    var uploads = doc.getElementById('lesson-uploads');
    var chain = Promise.resolve();
    function uploadRow(file) {
      var li = CC.el('li', null, 'upload');
      li.appendChild(CC.el('span', file.name, 'upload-name'));
      var bar = CC.el('progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', fill(tr(root, 'progress'), { name: file.name }));
      li.appendChild(bar);
      var text = CC.el('span', tr(root, 'queued'), 'upload-state');
      li.appendChild(text);
      uploads.appendChild(li);
      return function (kind, words, pct) {
        li.setAttribute('data-state', kind);
        text.textContent = words;
        if (typeof pct === 'number') { bar.value = pct; bar.setAttribute('aria-valuetext', pct + '%'); }
      };
    }

    async function waitJob(id, set) {
      for (var i = 0; ; i++) {
        await CC.sleep(Math.min(3000, 500 + i * 250));
        var res = await CC.api('GET', '/api/v1/jobs/' + encodeURIComponent(id));
        if (!res.ok || !res.body) { if (res.status === 404) throw new Error(CC.problemLines(res).join(' ')); continue; }
        if (res.body.state === 'done') return;
        if (res.body.state === 'failed') throw new Error(res.body.error || '');
        set('attaching', tr(root, 'attaching'), 100);
      }
    }

    async function lessonFromFile(file, set) {
      var title = file.name.replace(/\.[^.]+$/, '');
      var made = await CC.api('POST', '/api/v1/items', {
        title: title, type: /^audio\//.test(file.type) ? 'Sound' : 'MovingImage', theme: doc.getElementById('lesson-theme').value,
        licence: 'in-copyright', unit: field('unit').value, language: 'zh', creator: [field('lecturer').options[field('lecturer').selectedIndex].textContent.replace(/ \([^)]*\)$/, '')]
      });
      if (!made.ok || !made.body) throw new Error(CC.problemLines(made).filter(Boolean).join(' '));
      var item = made.body.id;
      var job = await CC.uploadToItem(item, file, root, set);
      await waitJob(job, set);
      var got = await CC.api('GET', '/api/v1/items/' + encodeURIComponent(item));
      var files = (got.body && got.body.files) || [];
      var f = files[files.length - 1];
      if (!f) throw new Error(tr(root, 'failed'));
      state.lessons.push({ title: title, media: { item: item, path: f.path, name: f.name } });
      render();
      set('done', tr(root, 'uploaded'), 100); // the lesson row shows the transcoding
      await save();
      watchMedia();
    }

    doc.getElementById('lesson-upload').addEventListener('change', function (ev) {
      Array.prototype.forEach.call(ev.target.files || [], function (file) {
        var set = uploadRow(file);
        chain = chain.then(function () { return lessonFromFile(file, set); }).catch(function (e) {
          set('failed', tr(root, 'failed') + (e && e.message ? e.message : ''));
          CC.setStatus(region, 'error', [tr(root, 'failed') + (e && e.message ? e.message : '')]);
        });
      });
      ev.target.value = '';
    });

    // Lessons from the library: an item id, whose first video or audio file is the lesson.
    doc.getElementById('lesson-item-add').addEventListener('click', async function () {
      var box = doc.getElementById('lesson-item');
      var id = box.value.trim();
      if (!id) return;
      var got = await CC.api('GET', '/api/v1/items/' + encodeURIComponent(id));
      var f = got.ok && got.body && (got.body.files || []).find(function (x) { return /^(video|audio)\//.test(x.media_type); });
      if (!f) { CC.setStatus(region, 'error', [tr(root, 'pick-failed')].concat(got.ok ? [] : CC.problemLines(got))); return; }
      state.lessons.push({ title: got.body.title, media: { item: id, path: f.path, name: f.name } });
      box.value = '';
      render(state.lessons.length - 1, 'up');
      watchMedia();
    });

    if (/[?&]created=1/.test(window.location.search)) CC.setStatus(region, 'ok', [tr(root, 'created')]);
    render();
    if (state.lessons.length) watchMedia();
  }

  function init() {
    var page = doc.getElementById('course-page');
    if (page) initCoursePage(page);
    var lesson = doc.getElementById('lesson-page');
    if (lesson) initLesson(lesson);
    var editor = doc.getElementById('console-course');
    if (editor) initConsoleCourse(editor);
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
