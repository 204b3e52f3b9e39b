// Shizuishan Memory: item page (image viewer, view counts, thumbnails, history), collections,
// the librarians' console and resumable uploads. Plain JavaScript, no dependencies. Every
// text it shows comes from a data-t-* attribute that the server filled from the catalogue.
(function () {
  'use strict';

  var doc = document;
  var lang = doc.documentElement.lang || 'zh-CN';

  function msg(name) { return doc.body.getAttribute('data-msg-' + name) || ''; }
  function tr(root, name) { return (root && root.getAttribute('data-t-' + name)) || ''; }
  function fill(template, name, value) { return (template || '').split('{' + name + '}').join(value); }

  function csrfToken() {
    var m = doc.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : '';
  }

  // api sends one JSON request and resolves to {ok, status, body, etag}.
  async function api(method, url, data, headers) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json, application/problem+json', 'Accept-Language': lang }
    };
    Object.keys(headers || {}).forEach(function (h) { opts.headers[h] = headers[h]; });
    if (method !== 'GET') {
      opts.headers['X-CSRF-Token'] = csrfToken();
      opts.headers['Content-Type'] = 'application/json';
      if (data !== undefined) opts.body = JSON.stringify(data);
    }
    var res = await fetch(url, opts);
    var body = null;
    if (res.status !== 204) {
      var text = await res.text();
      try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    }
    return { ok: res.ok, status: res.status, body: body, etag: res.headers.get('ETag') || '' };
  }

  function versionOf(etag) { return (etag || '').replace(/^W\//, '').replace(/"/g, ''); }
  function quoted(version) { return '"' + version + '"'; }

  function el(tag, text, cls) {
    var e = doc.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function link(href, text, cls) {
    var a = el('a', text, cls);
    a.href = href;
    return a;
  }

  // setStatus replaces what a live region says; errors go in a role=alert child.
  function setStatus(region, kind, lines) {
    if (!region) return;
    region.textContent = '';
    if (!kind) return;
    var box = el('div', null, 'status-' + kind);
    if (kind === 'error') box.setAttribute('role', 'alert');
    lines.filter(Boolean).forEach(function (l) { box.appendChild(el('p', l)); });
    region.appendChild(box);
  }

  function problemLines(res) {
    var p = res.body || {};
    var lines = [p.title || msg('error'), p.detail];
    (Array.isArray(p.errors) ? p.errors : []).forEach(function (fe) { lines.push(fe.message); });
    return lines;
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function itemURL(id) { return '/memory/items/' + encodeURIComponent(id); }

  // ---- Item page -------------------------------------------------------------------

  function initItem(page) {
    var id = page.getAttribute('data-id');
    var staff = page.getAttribute('data-staff') === '1';

    // A view is counted again when media starts playing (the server de-duplicates).
    page.querySelectorAll('.media-play').forEach(function (m) {
      m.addEventListener('play', function () {
        if (m.hasAttribute('data-counted')) return;
        m.setAttribute('data-counted', '1');
        api('POST', '/api/v1/items/' + encodeURIComponent(id) + '/views').then(function (res) {
          var st = res.ok && res.body && res.body.stats;
          if (!st) return;
          var total = doc.getElementById('view-total');
          var today = doc.getElementById('view-today');
          if (total && typeof st.total === 'number') total.textContent = st.total;
          if (today && typeof st.today === 'number') today.textContent = st.today;
        }, function () {});
      });
    });

    initViewer(page);
    loadDerivatives(id, page, staff, page);

    page.addEventListener('click', async function (ev) {
      var button = ev.target.closest('.restore-version');
      if (!button) return;
      var region = doc.getElementById('history-status');
      button.disabled = true;
      setStatus(region, 'info', [msg('saving')]);
      try {
        var res = await api('POST', '/api/v1/items/' + encodeURIComponent(id) + '/restore',
          { version: button.getAttribute('data-version') }, { 'If-Match': quoted(page.getAttribute('data-version')) });
        if (res.ok) {
          setStatus(region, 'ok', [tr(page, 'restored')]);
          window.location.reload();
          return;
        }
        setStatus(region, 'error', res.status === 412 ? [tr(page, 'stale')] : problemLines(res));
      } catch (e) {
        setStatus(region, 'error', [msg('network')]);
      }
      button.disabled = false;
    });
  }

  // initViewer wires the image viewer: a modal <dialog> with zoom buttons; Esc closes it
  // (the browser does that for a modal dialog) and focus goes back to the image.
  function initViewer(page) {
    var dialog = doc.getElementById('image-viewer');
    if (!dialog || typeof dialog.showModal !== 'function') return;
    var img = doc.getElementById('viewer-img');
    var level = doc.getElementById('viewer-level');
    var original = doc.getElementById('viewer-original');
    var title = doc.getElementById('viewer-title');
    var levels = [100, 150, 200, 300, 400];
    var index = 0;
    var opener = null;

    function apply() {
      levels.forEach(function (l) { img.classList.remove('zoom-' + l); });
      img.classList.add('zoom-' + levels[index]);
      level.textContent = levels[index] + '%';
      doc.getElementById('viewer-zoom-out').disabled = index === 0;
      doc.getElementById('viewer-zoom-in').disabled = index === levels.length - 1;
    }
    function zoom(step) {
      index = Math.max(0, Math.min(levels.length - 1, index + step));
      apply();
    }

    page.addEventListener('click', function (ev) {
      var button = ev.target.closest('.zoom-open');
      if (!button) return;
      opener = button;
      var preview = button.querySelector('img');
      img.src = button.getAttribute('data-full');
      img.alt = preview ? preview.alt : '';
      original.href = button.getAttribute('data-original') || button.getAttribute('data-full');
      title.textContent = button.getAttribute('data-name') || title.textContent;
      index = 0;
      apply();
      dialog.showModal();
      doc.getElementById('viewer-zoom-in').focus();
    });
    doc.getElementById('viewer-zoom-in').addEventListener('click', function () { zoom(1); });
    doc.getElementById('viewer-zoom-out').addEventListener('click', function () { zoom(-1); });
    doc.getElementById('viewer-close').addEventListener('click', function () { dialog.close(); });
    dialog.addEventListener('keydown', function (ev) {
      if (ev.key === '+' || ev.key === '=') { ev.preventDefault(); zoom(1); }
      else if (ev.key === '-' || ev.key === '_') { ev.preventDefault(); zoom(-1); }
    });
    dialog.addEventListener('close', function () {
      img.removeAttribute('src');
      if (opener) opener.focus();
    });
  }

  // loadDerivatives puts thumbnails and posters in place when the worker has made them, and
  // shows staff why it could not. Without derivatives the originals stay.
  async function loadDerivatives(id, root, staff, texts) {
    var res;
    try { res = await api('GET', '/api/v1/items/' + encodeURIComponent(id) + '/derivatives'); } catch (e) { return; }
    var files = res.ok && res.body && res.body.files;
    if (!files) return;
    Object.keys(files).forEach(function (path) {
      var entry = files[path] || {};
      var item = Array.prototype.find.call(root.querySelectorAll('li[data-path]'), function (li) {
        return li.getAttribute('data-path') === path;
      });
      if (!item) return;
      if (entry.state === 'failed') {
        var note = item.querySelector('.derivative-error');
        if (staff && note) {
          note.textContent = tr(texts, 'derivative-failed') + (entry.error || '');
          note.hidden = false;
        }
        return;
      }
      var out = {};
      (entry.outputs || []).forEach(function (o) { if (o && o.name && o.url) out[o.name] = o; });
      var preview = item.querySelector('img.file-preview');
      var small = out['thumb-480.jpg'] || out['thumb-1200.jpg'];
      if (preview && small) {
        preview.src = small.url;
        if (small.width && small.height) { preview.width = small.width; preview.height = small.height; }
      }
      var zoomButton = item.querySelector('.zoom-open');
      if (zoomButton && out['thumb-1200.jpg']) {
        zoomButton.setAttribute('data-original', zoomButton.getAttribute('data-full'));
        zoomButton.setAttribute('data-full', out['thumb-1200.jpg'].url);
      }
      var video = item.querySelector('video');
      if (video && out['poster.jpg']) video.poster = out['poster.jpg'].url;
    });
  }

  // ---- Home and collections -------------------------------------------------------

  function card(href, title, lines) {
    var li = el('li', null, 'card');
    var h = el('h3');
    h.appendChild(link(href, title));
    li.appendChild(h);
    lines.filter(Boolean).forEach(function (l) { li.appendChild(el('p', l)); });
    return li;
  }

  async function initFeatured(section) {
    var res;
    try { res = await api('GET', section.getAttribute('data-lib-api')); } catch (e) { return; }
    var list = res.ok && res.body && Array.isArray(res.body.collections) ? res.body.collections : [];
    var featured = list.filter(function (c) { return c.featured; });
    if (!featured.length) return;
    var ul = doc.getElementById('featured-list');
    var count = ul.getAttribute('data-lib-items');
    featured.slice(0, 6).forEach(function (c) {
      var n = typeof c.item_count === 'number' ? c.item_count : (c.items || []).length;
      ul.appendChild(card('/memory/collections/' + encodeURIComponent(c.id), c.title, [c.description, count.replace('%d', n)]));
    });
    section.hidden = false;
  }

  async function initCollection(page) {
    var region = doc.getElementById('collection-status');
    var res;
    try { res = await api('GET', page.getAttribute('data-lib-api')); } catch (e) {
      setStatus(region, 'error', [msg('network')]);
      return;
    }
    if (!res.ok || !res.body) {
      setStatus(region, 'error', [res.status === 404 ? tr(page, 'not-found') : msg('error')]);
      return;
    }
    var c = res.body;
    doc.getElementById('collection-title').textContent = c.title || '';
    doc.title = (c.title || '') + ' · ' + doc.title;
    doc.getElementById('collection-description').textContent = c.description || '';
    var ul = doc.getElementById('collection-items');
    var items = Array.isArray(c.items) ? c.items : [];
    items.forEach(function (it) {
      var li = el('li', null, 'item-card');
      li.appendChild(el('span', null, 'thumb-placeholder'));
      li.lastChild.setAttribute('aria-hidden', 'true');
      li.appendChild(link(itemURL(it.id), it.title));
      ul.appendChild(li);
    });
    setStatus(region, items.length ? null : 'info', [tr(page, 'empty')]);
  }

  // ---- Console: lists ---------------------------------------------------------------

  async function moveItem(id, to) {
    var cur = await api('GET', '/api/v1/items/' + encodeURIComponent(id));
    if (!cur.ok) return cur;
    return api('POST', '/api/v1/items/' + encodeURIComponent(id) + '/status', { status: to }, { 'If-Match': cur.etag });
  }

  // The review queue: what the signed-in member of staff may approve or send back, and her
  // own submissions with the reason a reviewer gave.
  async function review(kind, id, version, decision, reason) {
    var tag = '"' + String(version).replace(/"/g, '') + '"';
    return api('POST', '/api/v1/' + kind + '/' + encodeURIComponent(id) + '/review', { decision: decision, reason: reason || '' },
      { 'If-Match': tag });
  }

  function queueEntry(root, section, e) {
    var li = el('li', null, 'staff-item');
    li.setAttribute('data-id', e.id);
    var consoles = { course: '/console/courses/', exhibition: '/console/exhibitions/' };
    var href = (consoles[e.kind] || '/console/items/') + encodeURIComponent(e.id);
    var kindWord = e.kind === 'course' ? tr(root, 'kind-course') : e.kind === 'exhibition' ? tr(root, 'kind-exhibition') : '';
    li.appendChild(link(href, (kindWord ? kindWord + ' · ' : '') + e.title, 'staff-title'));
    var note = el('p', null, 'muted review-note');
    if (section.getAttribute('data-queue') === 'mine') {
      note.textContent = e.rejected ? fill(fill(tr(root, 'rejected'), 'by', e.rejected.by), 'reason', e.rejected.reason) : tr(root, 'awaiting');
      if (e.rejected) note.className = 'review-note review-rejected';
      li.appendChild(note);
      return li;
    }
    if (e.pending > 0) {
      note.textContent = fill(tr(root, 'pending'), 'n', e.pending);
      li.appendChild(note);
    }
    var actions = el('span', null, 'staff-actions');
    var approve = el('button', tr(root, 'approve'), 'primary review-approve');
    approve.type = 'button';
    approve.setAttribute('aria-label', tr(root, 'approve') + ': ' + e.title);
    var reject = el('button', tr(root, 'reject'), 'review-reject');
    reject.type = 'button';
    reject.setAttribute('aria-label', tr(root, 'reject') + ': ' + e.title);
    reject.setAttribute('aria-expanded', 'false');
    actions.appendChild(approve);
    actions.appendChild(reject);
    li.appendChild(actions);
    var form = el('form', null, 'review-reason');
    form.hidden = true;
    var fieldID = 'reason-' + e.id;
    var label = el('label', tr(root, 'reason'));
    label.setAttribute('for', fieldID);
    var text = el('textarea');
    text.id = fieldID;
    text.required = true;
    text.maxLength = 1000;
    text.rows = 3;
    var send = el('button', tr(root, 'send-back'));
    send.type = 'submit';
    form.appendChild(label);
    form.appendChild(text);
    form.appendChild(send);
    li.appendChild(form);
    var decide = async function (decision, reason, button) {
      var region = doc.getElementById('console-status');
      button.disabled = true;
      setStatus(region, 'info', [msg('saving')]);
      try {
        var res = await review(e.kind + 's', e.id, e.version, decision, reason);
        if (res.ok) setStatus(region, 'ok', [tr(root, 'reviewed')]); else setStatus(region, 'error', problemLines(res));
      } catch (err) {
        setStatus(region, 'error', [msg('network')]);
      }
      button.disabled = false;
      root.dispatchEvent(new Event('console-reload'));
    };
    approve.addEventListener('click', function () { decide('approve', '', approve); });
    reject.addEventListener('click', function () {
      form.hidden = !form.hidden;
      reject.setAttribute('aria-expanded', String(!form.hidden));
      if (!form.hidden) text.focus();
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      decide('reject', text.value.trim(), send);
    });
    return li;
  }

  async function loadQueue(root, section) {
    var ul = section.querySelector('.staff-items');
    var total = section.querySelector('.list-total');
    var res;
    try { res = await api('GET', '/api/v1/review/queue'); } catch (e) { res = { ok: false }; }
    var list = res.ok && res.body ? res.body[section.getAttribute('data-queue')] : null;
    ul.textContent = '';
    if (!Array.isArray(list)) {
      ul.appendChild(el('li', tr(root, 'unavailable'), 'muted'));
      return;
    }
    total.textContent = fill(tr(root, 'total'), 'n', list.length);
    if (!list.length) ul.appendChild(el('li', tr(root, 'empty'), 'muted'));
    list.forEach(function (e) { ul.appendChild(queueEntry(root, section, e)); });
  }

  async function loadList(root, section) {
    if (section.hasAttribute('data-queue')) return loadQueue(root, section);
    var ul = section.querySelector('.staff-items');
    var total = section.querySelector('.list-total');
    var res;
    try { res = await api('GET', '/api/v1/staff/items?status=' + encodeURIComponent(section.getAttribute('data-status'))); } catch (e) {
      res = { ok: false };
    }
    ul.textContent = '';
    if (!res.ok || !res.body || !Array.isArray(res.body.hits)) {
      ul.appendChild(el('li', tr(root, 'unavailable'), 'muted'));
      return;
    }
    total.textContent = fill(tr(root, 'total'), 'n', res.body.total || res.body.hits.length);
    if (!res.body.hits.length) ul.appendChild(el('li', tr(root, 'empty'), 'muted'));
    res.body.hits.forEach(function (h) {
      var li = el('li', null, 'staff-item');
      li.appendChild(link('/console/items/' + encodeURIComponent(h.id), h.title, 'staff-title'));
      var actions = el('span', null, 'staff-actions');
      if ((h.status || section.getAttribute('data-status')) === 'in_review') {
        [['published', 'publish'], ['draft', 'return']].forEach(function (pair) {
          var b = el('button', tr(root, pair[1]), pair[0] === 'published' ? 'primary move-item' : 'move-item');
          b.type = 'button';
          b.setAttribute('data-id', h.id);
          b.setAttribute('data-to', pair[0]);
          b.setAttribute('aria-label', tr(root, pair[1]) + ': ' + h.title);
          actions.appendChild(b);
        });
      }
      if (section.getAttribute('data-status') === 'published') actions.appendChild(link(itemURL(h.id), tr(root, 'view')));
      li.appendChild(actions);
      ul.appendChild(li);
    });
  }

  function initConsole(root) {
    var sections = root.querySelectorAll('.console-list');
    var reload = function () { sections.forEach(function (s) { loadList(root, s); }); };
    reload();
    root.addEventListener('console-reload', function () { reload(); setTimeout(reload, 1500); });
    root.addEventListener('click', async function (ev) {
      var b = ev.target.closest('.move-item');
      if (!b) return;
      var region = doc.getElementById('console-status');
      b.disabled = true;
      setStatus(region, 'info', [msg('saving')]);
      try {
        var res = await moveItem(b.getAttribute('data-id'), b.getAttribute('data-to'));
        if (res.ok) setStatus(region, 'ok', [tr(root, 'moved')]); else setStatus(region, 'error', problemLines(res));
      } catch (e) {
        setStatus(region, 'error', [msg('network')]);
      }
      reload();
      // The search index follows the write within a second or two.
      setTimeout(reload, 1500);
    });
  }

  // ---- Console: the workbench (filtered list, bulk status changes) ------------------

  var WB_FILTERS = ['q', 'status', 'type', 'theme', 'unit', 'created_from', 'created_to', 'updated_from', 'updated_to'];

  // The filters live in the page's URL (the filter form is a GET form), so a view can be
  // bookmarked and the back button returns to the previous one.
  function workbenchQuery() {
    var here = new URLSearchParams(window.location.search);
    var q = new URLSearchParams();
    WB_FILTERS.concat(['page']).forEach(function (k) {
      var v = (here.get(k) || '').trim();
      if (v) q.set(k, v);
    });
    q.set('sort', 'newest');
    return q;
  }

  function pageLink(root, page, key) {
    var here = new URLSearchParams(window.location.search);
    here.set('page', String(page));
    return link('/console?' + here.toString(), tr(root, key), 'wb-' + key);
  }

  function initWorkbench(root) {
    var list = doc.getElementById('wb-list');
    var total = doc.getElementById('wb-total');
    var pages = doc.getElementById('wb-pages');
    var all = doc.getElementById('wb-all');
    var region = doc.getElementById('wb-status-region');
    var results = doc.getElementById('wb-results');
    var titles = {};

    function boxes() { return Array.prototype.slice.call(list.querySelectorAll('input.wb-pick:not(:disabled)')); }
    function syncAll() {
      var b = boxes();
      var on = b.filter(function (x) { return x.checked; }).length;
      all.checked = b.length > 0 && on === b.length;
      all.indeterminate = on > 0 && on < b.length;
    }

    async function load() {
      var res;
      try { res = await api('GET', '/api/v1/staff/items?' + workbenchQuery().toString()); } catch (e) { res = { ok: false }; }
      list.textContent = '';
      pages.textContent = '';
      if (!res.ok || !res.body || !Array.isArray(res.body.hits)) {
        list.appendChild(el('li', tr(doc.getElementById('console'), 'unavailable'), 'muted'));
        if (res.body) setStatus(region, 'error', problemLines(res));
        syncAll();
        return;
      }
      var body = res.body;
      total.textContent = fill(tr(doc.getElementById('console'), 'total'), 'n', body.total || body.hits.length);
      if (!body.hits.length) list.appendChild(el('li', tr(doc.getElementById('console'), 'empty'), 'muted'));
      body.hits.forEach(function (h) {
        titles[h.id] = h.title;
        var li = el('li', null, 'staff-item wb-item');
        li.setAttribute('data-id', h.id);
        var box = el('input', null, 'wb-pick');
        box.type = 'checkbox';
        box.id = 'wb-pick-' + h.id;
        box.value = h.id;
        box.setAttribute('aria-label', fill(tr(root, 'select'), 'title', h.title));
        box.disabled = !h.editable;
        li.appendChild(box);
        li.appendChild(link(h.editable ? '/console/items/' + encodeURIComponent(h.id) : itemURL(h.id), h.title, 'staff-title'));
        li.appendChild(el('span', tr(root, 'status-' + h.status), 'tag status-tag status-' + h.status));
        if (!h.editable) li.appendChild(el('span', tr(root, 'read-only'), 'tag muted'));
        list.appendChild(li);
      });
      var page = body.page || 1;
      var last = body.total_pages || 1;
      if (last > 1) {
        if (page > 1) pages.appendChild(pageLink(root, page - 1, 'prev'));
        pages.appendChild(el('span', fill(fill(tr(root, 'page'), 'n', page), 'm', last), 'wb-page'));
        if (page < last) pages.appendChild(pageLink(root, page + 1, 'next'));
      }
      syncAll();
    }

    all.addEventListener('change', function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      all.indeterminate = false;
    });
    list.addEventListener('change', function (ev) { if (ev.target.classList.contains('wb-pick')) syncAll(); });

    doc.getElementById('wb-bulk').addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var action = doc.getElementById('wb-action').value;
      var ids = boxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      if (!action || !ids.length) {
        setStatus(region, 'error', [tr(root, 'none-selected')]);
        return;
      }
      var button = doc.getElementById('wb-apply');
      button.disabled = true;
      setStatus(region, 'info', [msg('saving')]);
      try {
        var res = await api('POST', '/api/v1/items/status', { status: action, ids: ids });
        if (!res.ok || !res.body || !Array.isArray(res.body.results)) {
          setStatus(region, 'error', problemLines(res));
          return;
        }
        results.textContent = '';
        doc.getElementById('wb-results-title').hidden = false;
        res.body.results.forEach(function (r) {
          var title = titles[r.id] || r.id;
          var li;
          if (r.outcome === 'moved') {
            li = el('li', fill(fill(tr(root, 'result-moved'), 'title', title), 'status', tr(root, 'status-' + r.status)), 'status-ok');
          } else {
            var reason = r.problem ? [r.problem.detail].concat((r.problem.errors || []).map(function (e) { return e.message; })).filter(Boolean).join(' ') : '';
            li = el('li', fill(fill(tr(root, 'result-refused'), 'title', title), 'reason', reason), 'status-error');
          }
          li.setAttribute('data-id', r.id);
          li.setAttribute('data-outcome', r.outcome);
          results.appendChild(li);
        });
        setStatus(region, res.body.refused ? 'error' : 'ok',
          [fill(fill(tr(root, 'summary'), 'moved', res.body.moved), 'refused', res.body.refused)]);
      } catch (e) {
        setStatus(region, 'error', [msg('network')]);
      } finally {
        button.disabled = false;
      }
      // The search index follows the writes within a second or two.
      load();
      setTimeout(load, 1500);
      doc.getElementById('console').dispatchEvent(new CustomEvent('console-reload'));
    });
    load();
  }

  // ---- Console: the item form -----------------------------------------------------

  function collectFields(form) {
    var data = { place: {} };
    form.querySelectorAll('[name]').forEach(function (c) {
      var name = c.name;
      var value = c.value.trim();
      if (name.indexOf('place.') === 0) {
        var key = name.slice(6);
        if (value === '') return;
        data.place[key] = key === 'name' ? value : (isNaN(Number(value)) ? value : Number(value));
        return;
      }
      if (c.getAttribute('data-list')) {
        data[name] = value.split(/[,，;；、\n]+/).map(function (s) { return s.trim(); }).filter(Boolean);
        return;
      }
      data[name] = c.tagName === 'TEXTAREA' ? c.value : value;
    });
    return data;
  }

  function clearErrors(form) {
    form.querySelectorAll('.field-error').forEach(function (n) { n.remove(); });
    form.querySelectorAll('[aria-invalid]').forEach(function (c) {
      c.removeAttribute('aria-invalid');
      var rest = (c.getAttribute('aria-describedby') || '').split(/\s+/).filter(function (x) { return x && !/-error$/.test(x); });
      if (rest.length) c.setAttribute('aria-describedby', rest.join(' ')); else c.removeAttribute('aria-describedby');
    });
  }

  // showErrors puts each field error of a problem next to its control.
  function showErrors(form, region, res) {
    var p = res.body || {};
    var lines = [p.title || msg('error'), p.detail];
    var first = null;
    (Array.isArray(p.errors) ? p.errors : []).forEach(function (fe) {
      var field = (fe.field || '').replace(/\[\d+\]$/, '');
      var input = field && Array.prototype.find.call(form.querySelectorAll('[data-field]'), function (c) {
        return c.getAttribute('data-field') === field;
      });
      if (!input) { lines.push(fe.message); return; }
      var errId = input.id + '-error';
      var note = doc.getElementById(errId);
      if (!note) {
        note = el('p', null, 'field-error');
        note.id = errId;
        (doc.getElementById(input.id + '-hint') || input).after(note);
      }
      note.textContent = fe.message;
      input.setAttribute('aria-invalid', 'true');
      var described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      if (described.indexOf(errId) < 0) described.push(errId);
      input.setAttribute('aria-describedby', described.join(' '));
      if (!first) first = input;
    });
    setStatus(region, 'error', lines);
    if (first) first.focus();
  }

  function initConsoleItem(root) {
    var state = { id: root.getAttribute('data-id'), version: root.getAttribute('data-version') };
    var form = doc.getElementById('item-form');
    var region = doc.getElementById('item-form-status');
    var reloadButton = doc.getElementById('item-reload');

    reloadButton.addEventListener('click', function () { window.location.reload(); });

    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var button = doc.getElementById('item-save');
      clearErrors(form);
      button.disabled = true;
      form.setAttribute('aria-busy', 'true');
      setStatus(region, 'info', [msg('saving')]);
      try {
        var res;
        if (!state.id) {
          res = await api('POST', '/api/v1/items', collectFields(form));
          if (res.ok && res.body && res.body.id) {
            setStatus(region, 'ok', [tr(root, 'created')]);
            window.location.assign('/console/items/' + encodeURIComponent(res.body.id));
            return;
          }
        } else {
          res = await api('PUT', '/api/v1/items/' + encodeURIComponent(state.id), collectFields(form), { 'If-Match': quoted(state.version) });
          if (res.ok) {
            state.version = versionOf(res.etag) || (res.body && res.body.version) || state.version;
            setStatus(region, 'ok', [tr(root, 'saved')]);
            return;
          }
          if (res.status === 412) {
            setStatus(region, 'error', [tr(root, 'stale')]);
            reloadButton.hidden = false;
            reloadButton.focus();
            return;
          }
        }
        showErrors(form, region, res);
      } catch (e) {
        setStatus(region, 'error', [msg('network')]);
      } finally {
        button.disabled = false;
        form.removeAttribute('aria-busy');
      }
    });

    if (!state.id) {
      if (doc.getElementById('new-drop-zone')) initDropToCreate(root, state, form);
      return;
    }

    var workflow = doc.getElementById('workflow-status');
    root.addEventListener('click', async function (ev) {
      var b = ev.target.closest('.move-status');
      if (!b) return;
      b.disabled = true;
      setStatus(workflow, 'info', [msg('saving')]);
      try {
        var res = await api('POST', '/api/v1/items/' + encodeURIComponent(state.id) + '/status',
          { status: b.getAttribute('data-to') }, { 'If-Match': quoted(state.version) });
        if (res.ok) {
          setStatus(workflow, 'ok', [tr(root, 'moved')]);
          window.location.reload();
          return;
        }
        if (res.status === 412) {
          setStatus(workflow, 'error', [tr(root, 'stale')]);
          reloadButton.hidden = false;
        } else {
          setStatus(workflow, 'error', problemLines(res));
        }
      } catch (e) {
        setStatus(workflow, 'error', [msg('network')]);
      }
      b.disabled = false;
    });

    initUploads(root, state);
    loadDerivatives(state.id, doc.getElementById('console-files'), true, root);
  }

  // initDropToCreate: files dropped (or chosen) on the new-item page make a draft named and
  // typed after the first file, with what the form already holds; the server fills the rest.
  // The files then upload to it with their progress, and the draft opens when all are done.
  function initDropToCreate(root, state, form) {
    var region = doc.getElementById('upload-status');
    initUploads(root, state, {
      input: 'new-files-input', zone: 'new-drop-zone',
      create: async function (first) {
        clearErrors(form);
        setStatus(region, 'info', [tr(root, 'drop-creating')]);
        var fields = collectFields(form);
        fields.from_file = { name: first.name, media_type: first.type || '' };
        var res;
        try { res = await api('POST', '/api/v1/items', fields); } catch (e) {
          setStatus(region, 'error', [msg('network')]);
          return false;
        }
        if (!res.ok || !res.body || !res.body.id) {
          showErrors(form, region, res);
          return false;
        }
        state.id = res.body.id;
        state.version = versionOf(res.etag) || res.body.version;
        root.setAttribute('data-id', state.id);
        doc.getElementById('item-title').value = res.body.title || '';
        doc.getElementById('item-type').value = res.body.type || '';
        history.replaceState(null, '', '/console/items/' + encodeURIComponent(state.id));
        setStatus(region, 'ok', [fill(tr(root, 'drop-created'), 'title', res.body.title || '')]);
        return true;
      },
      done: function () {
        setStatus(region, 'ok', [tr(root, 'drop-finished')]);
        window.location.assign('/console/items/' + encodeURIComponent(state.id));
      }
    });
  }

  // ---- Console: uploads -----------------------------------------------------------

  var PARALLEL = 4;       // parts in flight per file
  var MAX_ATTEMPTS = 8;   // per part, with exponential backoff

  function uploadKey(itemID, f) { return 'cc-upload:' + itemID + ':' + f.name + ':' + f.size + ':' + f.lastModified; }

  function storage() { try { return window.localStorage; } catch (e) { return null; } }

  function waitOnline() {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise(function (resolve) { window.addEventListener('online', function () { resolve(); }, { once: true }); });
  }

  // CRC32C (Castagnoli), the checksum new upload sessions ask for: it needs no crypto.subtle,
  // so uploads work on plain-HTTP intranet pages too.
  var CRC32C_TABLE = (function () {
    var t = new Uint32Array(256);
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1;
      t[n] = c >>> 0;
    }
    return t;
  })();

  function crc32c(bytes) {
    var crc = 0xFFFFFFFF;
    for (var i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xFF] ^ (crc >>> 8);
    return (crc ^ 0xFFFFFFFF) >>> 0;
  }

  function base64(bytes) {
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }

  // checksum is a part's checksum as its header carries it, in the session's algorithm
  // (sessions from before CRC32C use SHA-256, which needs an HTTPS page).
  async function checksum(blob, algorithm) {
    var bytes = new Uint8Array(await blob.arrayBuffer());
    if (algorithm === 'SHA256') {
      if (!window.crypto || !crypto.subtle) return '';
      return base64(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
    }
    var c = crc32c(bytes);
    return base64([c >>> 24, (c >>> 16) & 0xFF, (c >>> 8) & 0xFF, c & 0xFF]);
  }

  // putPart sends one part straight to the storage, reporting bytes as they go.
  function putPart(url, blob, header, sum, progress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      if (sum) xhr.setRequestHeader(header, sum);
      xhr.upload.addEventListener('progress', function (e) { progress(e.loaded); });
      xhr.addEventListener('load', function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve(); else reject(new Error('HTTP ' + xhr.status));
      });
      xhr.addEventListener('error', function () { reject(new Error('network')); });
      xhr.addEventListener('timeout', function () { reject(new Error('timeout')); });
      xhr.timeout = 10 * 60 * 1000;
      xhr.send(blob);
    });
  }

  // uploadToItem sends a file straight to the storage in parts (resuming a session this
  // browser started before), then asks the server to attach it to the item. It reports with
  // set(state, words, percent) using the data-t-* texts of root, and resolves to the id of
  // the attach job.
  async function uploadToItem(itemID, file, root, set) {
    var store = storage();
    var key = uploadKey(itemID, file);
    var sess = null;
    var have = {};
    var stored = store && store.getItem(key);
    if (stored) {
      var got = await api('GET', '/api/v1/uploads/' + encodeURIComponent(stored));
      if (got.ok && got.body && got.body.job) {
        // Stored and taken by an attach job already (the page was left while it ran, or the
        // job failed): ask to attach again, which answers with that job, or a new one on the
        // stored file if it failed.
        return attach(itemID, got.body.id, root, set, store, key);
      }
      if (got.ok && got.body && !got.body.sealed && got.body.checksum_algorithm === 'SHA256' && !(window.crypto && crypto.subtle)) {
        // A session from before CRC32C, on a page without crypto.subtle (plain HTTP): its
        // parts can never be checksummed here, so start over with a new session.
        await api('DELETE', '/api/v1/uploads/' + encodeURIComponent(stored));
        got = { ok: false, status: 404 };
      }
      if (got.ok && got.body) {
        sess = got.body;
        (sess.uploaded || []).forEach(function (p) { have[p.number] = p.size; });
        set('resumed', tr(root, 'resumed'));
      } else if (got.status === 404) {
        if (store) store.removeItem(key);
      } else {
        // Not an answer about the session (signed out, server down): keep it for later.
        throw new Error(problemLines(got).filter(Boolean).join(' '));
      }
    }
    if (!sess) {
      var made = await api('POST', '/api/v1/uploads', { name: file.name, size: file.size });
      if (!made.ok || !made.body) throw new Error(problemLines(made).filter(Boolean).join(' '));
      sess = made.body;
      if (store) store.setItem(key, sess.id);
    }
    var partSize = sess.part_size;
    var parts = sess.parts;
    var header = sess.checksum_header;
    var algorithm = sess.checksum_algorithm;
    var sizeOf = function (n) { return n < parts ? partSize : file.size - partSize * (parts - 1); };
    var todo = [];
    var done = 0;
    for (var n = 1; n <= parts; n++) {
      if (have[n] === sizeOf(n)) done += sizeOf(n); else todo.push(n);
    }
    var inflight = {};
    var urls = {};
    var report = function () {
      var sent = done;
      Object.keys(inflight).forEach(function (k) { sent += inflight[k]; });
      var pct = file.size ? Math.min(100, Math.floor(sent * 100 / file.size)) : 100;
      set('sending', fill(tr(root, 'sending'), 'n', pct), pct);
    };
    report();

    async function fetchURLs(from) {
      var want = todo.slice(todo.indexOf(from)).filter(function (p) { return !urls[p]; }).slice(0, 100);
      if (want.indexOf(from) < 0) want.unshift(from);
      var res = await api('POST', '/api/v1/uploads/' + encodeURIComponent(sess.id) + '/urls', { parts: want.slice(0, 100) });
      if (!res.ok || !res.body || !res.body.urls) throw new Error(problemLines(res).filter(Boolean).join(' '));
      Object.keys(res.body.urls).forEach(function (k) { urls[k] = res.body.urls[k]; });
      header = res.body.checksum_header || header;
      algorithm = res.body.checksum_algorithm || algorithm;
    }

    async function sendPart(p) {
      var start = (p - 1) * partSize;
      var blob = file.slice(start, start + sizeOf(p));
      var sum = await checksum(blob, algorithm);
      for (var attempt = 1; ; attempt++) {
        await waitOnline();
        try {
          if (!urls[p]) await fetchURLs(p);
          await putPart(urls[p], blob, header, sum, function (loaded) { inflight[p] = loaded; report(); });
          delete inflight[p];
          done += blob.size;
          report();
          return;
        } catch (e) {
          delete inflight[p];
          delete urls[p]; // the URL may have expired: ask for a new one
          if (attempt >= MAX_ATTEMPTS) throw e;
          var wait = Math.min(30, Math.pow(2, attempt - 1));
          set('retrying', navigator.onLine === false ? tr(root, 'offline') : fill(tr(root, 'retrying'), 'n', wait));
          await sleep(wait * 1000);
        }
      }
    }

    var next = 0;
    async function worker() {
      while (next < todo.length) {
        var p = todo[next++];
        await sendPart(p);
      }
    }
    var workers = [];
    for (var w = 0; w < Math.min(PARALLEL, Math.max(todo.length, 1)); w++) workers.push(worker());
    await Promise.all(workers);

    return attach(itemID, sess.id, root, set, store, key);
  }

  // attach asks the server to add a stored upload to the item and resolves to the id of the
  // attach job. Asking again is safe (the server answers with the same job), so a dropped
  // connection or a server that is briefly down is retried like a part. The session is
  // forgotten only when the server says it is gone.
  async function attach(itemID, uploadID, root, set, store, key) {
    set('attaching', tr(root, 'attaching'), 100);
    for (var attempt = 1; ; attempt++) {
      await waitOnline();
      var job;
      try {
        job = await api('POST', '/api/v1/items/' + encodeURIComponent(itemID) + '/files', { upload_id: uploadID });
      } catch (e) {
        job = { ok: false, status: 0, body: null };
      }
      if (job.ok && job.body) return job.body.id;
      var transient = job.status === 0 || job.status >= 500;
      if (!transient || attempt >= MAX_ATTEMPTS) {
        if (store && job.status === 404) store.removeItem(key);
        throw new Error(job.status ? problemLines(job).filter(Boolean).join(' ') : tr(root, 'offline'));
      }
      var wait = Math.min(30, Math.pow(2, attempt - 1));
      set('retrying', navigator.onLine === false ? tr(root, 'offline') : fill(tr(root, 'retrying'), 'n', wait));
      await sleep(wait * 1000);
    }
  }

  // initUploads sends the files chosen or dropped to the item of state. On the new-item page
  // there is no item yet: opts.create makes it from the first file and sets state.id, and
  // opts.done runs when every file has been processed.
  function initUploads(root, state, opts) {
    opts = opts || {};
    var input = doc.getElementById(opts.input || 'upload-input');
    var zone = doc.getElementById(opts.zone || 'drop-zone');
    var list = doc.getElementById('upload-list');
    var chain = Promise.resolve();
    var pending = 0;
    var settle = function () {
      pending--;
      if (pending === 0 && opts.done) opts.done();
    };

    function row(file) {
      var li = el('li', null, 'upload');
      li.setAttribute('data-state', 'queued');
      li.appendChild(el('span', file.name, 'upload-name'));
      var bar = el('progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', fill(tr(root, 'progress'), 'name', file.name));
      li.appendChild(bar);
      var text = el('span', tr(root, 'queued'), 'upload-state');
      li.appendChild(text);
      list.appendChild(li);
      return {
        li: li,
        set: function (kind, words, pct) {
          li.setAttribute('data-state', kind);
          text.textContent = words;
          if (typeof pct === 'number') { bar.value = pct; bar.setAttribute('aria-valuetext', pct + '%'); }
        }
      };
    }

    async function add(chosen) {
      var files = Array.prototype.slice.call(chosen || []);
      if (!files.length) return;
      if (!state.id && !(opts.create && await opts.create(files[0]))) return;
      pending += files.length;
      files.forEach(function (file) {
        var r = row(file);
        chain = chain.then(function () { return uploadFile(file, r); }).catch(function (e) {
          r.set('failed', tr(root, 'failed') + (e && e.message ? e.message : ''));
          settle();
        });
      });
    }

    input.addEventListener('change', function () { add(input.files); input.value = ''; });
    zone.addEventListener('dragover', function (ev) { ev.preventDefault(); zone.classList.add('dragging'); });
    zone.addEventListener('dragleave', function () { zone.classList.remove('dragging'); });
    zone.addEventListener('drop', function (ev) {
      ev.preventDefault();
      zone.classList.remove('dragging');
      if (ev.dataTransfer) add(ev.dataTransfer.files);
    });

    async function uploadFile(file, r) {
      var store = storage();
      var key = uploadKey(state.id, file);
      var jobID = await uploadToItem(state.id, file, root, r.set);
      // The next file may upload while this one is being attached.
      watchJob(jobID, r, store, key);
    }

    async function watchJob(jobID, r, store, key) {
      for (var i = 0; ; i++) {
        await sleep(Math.min(3000, 500 + i * 250));
        var res;
        try { res = await api('GET', '/api/v1/jobs/' + encodeURIComponent(jobID)); } catch (e) { continue; }
        if (!res.ok || !res.body) {
          if (res.status === 404) {
            if (store) store.removeItem(key);
            r.set('failed', tr(root, 'failed') + problemLines(res).filter(Boolean).join(' '));
            settle();
            return;
          }
          if (res.status === 401) { // signed out: the job goes on; say so and stop asking
            r.set('failed', problemLines(res).filter(Boolean).join(' '));
            settle();
            return;
          }
          continue;
        }
        var job = res.body;
        if (job.state === 'done') {
          if (store) store.removeItem(key);
          r.set('done', tr(root, 'done'), 100);
          await refreshFiles();
          settle();
          return;
        }
        if (job.state === 'failed') {
          // The session is kept: dropping the file again tries the stored upload again.
          r.set('failed', tr(root, 'failed') + (job.error || ''));
          settle();
          return;
        }
        r.set('attaching', tr(root, 'attaching') + (job.percent ? ' ' + job.percent + '%' : ''), 100);
      }
    }

    // refreshFiles reads the item again: its file list and its new version.
    async function refreshFiles() {
      var res = await api('GET', '/api/v1/items/' + encodeURIComponent(state.id));
      if (!res.ok || !res.body) return;
      state.version = versionOf(res.etag) || res.body.version || state.version;
      root.setAttribute('data-version', state.version);
      var ul = doc.getElementById('console-files');
      if (!ul) return; // the new-item page: it opens the item when every file is done
      ul.textContent = '';
      var files = Array.isArray(res.body.files) ? res.body.files : [];
      if (!files.length) ul.appendChild(el('li', ul.getAttribute('data-empty'), 'muted'));
      files.forEach(function (f) {
        var li = el('li', null, 'file');
        li.setAttribute('data-path', f.path);
        li.appendChild(link('/api/v1/items/' + encodeURIComponent(state.id) + '/files/' + f.path.split('/').map(encodeURIComponent).join('/'), f.name));
        li.appendChild(doc.createTextNode(' · ' + f.media_type));
        var note = el('span', null, 'derivative-error status-error');
        note.hidden = true;
        li.appendChild(note);
        ul.appendChild(li);
      });
      setStatus(doc.getElementById('upload-status'), 'ok', [tr(root, 'files-updated')]);
      loadDerivatives(state.id, ul, true, root);
    }
  }

  // The course pages (courses.js) use the same requests, forms and uploads.
  window.CC = {
    api: api, problemLines: problemLines, setStatus: setStatus, el: el, link: link, sleep: sleep, tr: tr, fill: fill,
    versionOf: versionOf, quoted: quoted, clearErrors: clearErrors, showErrors: showErrors,
    uploadToItem: uploadToItem, uploadKey: uploadKey, storage: storage, partChecksum: checksum
  };

  // streamHLS plays the HLS stream of each player (an item's video or audio, a lecture's
  // replay in the embed) through hls.js where Media Source Extensions exist: Chromium answers
  // canPlayType "maybe" for HLS and then does not play it, and a view-only file has no other
  // source. Safari and phones without MSE play the stream themselves.
  function streamHLS() {
    if (!window.Hls || !window.Hls.isSupported()) return;
    doc.querySelectorAll('.media-play').forEach(function (m) {
      var stream = m.querySelector('source[type="application/vnd.apple.mpegurl"]');
      if (!stream || m.hasAttribute('data-hls')) return;
      m.setAttribute('data-hls', '1');
      var hls = new window.Hls({ capLevelToPlayerSize: true });
      hls.on(window.Hls.Events.ERROR, function (ev, data) {
        if (!data.fatal) return;
        if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) { hls.startLoad(); return; }
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
        // Beyond repair: back to the element's own sources (the file, where there is one).
        hls.destroy();
        m.removeAttribute('data-hls');
        stream.remove();
        m.load();
      });
      hls.loadSource(stream.getAttribute('src'));
      hls.attachMedia(m);
    });
  }

  function init() {
    streamHLS();
    var item = doc.getElementById('item-page');
    if (item) initItem(item);
    var featured = doc.getElementById('featured-collections');
    if (featured) initFeatured(featured);
    var collection = doc.getElementById('collection-page');
    if (collection) initCollection(collection);
    var consoleRoot = doc.getElementById('console');
    if (consoleRoot) initConsole(consoleRoot);
    var workbench = doc.getElementById('workbench');
    if (workbench) initWorkbench(workbench);
    var consoleItem = doc.getElementById('console-item');
    if (consoleItem) initConsoleItem(consoleItem);
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
