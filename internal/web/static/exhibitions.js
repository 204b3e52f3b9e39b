// Cloud exhibitions: the walkthrough (one exhibit at a time, ←/→ and swipe, deep zoom of
// images through the IIIF tiles with OpenSeadragon when it is there, the plain image when
// not) and the curators' editor of rooms and exhibits. Without script the walkthrough is
// one long page, which is also what screen readers get to browse by headings.
(function () {
  'use strict';

  var doc = document;

  function tr(root, name) { return (root && root.getAttribute('data-t-' + name)) || ''; }
  function fill(template, values) {
    var out = template || '';
    Object.keys(values).forEach(function (k) { out = out.split('{' + k + '}').join(String(values[k])); });
    return out;
  }

  // ---- Walkthrough -------------------------------------------------------------------

  var SWIPE = 50; // px of horizontal travel that count as a swipe
  var VIEW_EVERY = 200; // ms between two cc:view-changed while the deep-zoom view moves

  // regionOf reads "x,y,w,h" into numbers, or null.
  function regionOf(text) {
    var p = (text || '').split(',').map(Number);
    return p.length === 4 && p.every(function (n) { return isFinite(n); }) ? p : null;
  }

  // openZoom makes the deep-zoom viewer of a figure once; the plain image stays until the
  // tiles have opened, and comes back if they fail.
  function openZoom(root, fig) {
    var box = fig.querySelector('.deep-zoom');
    var source = fig.getAttribute('data-tiles');
    if (!box || !source || box.getAttribute('data-viewer') || typeof window.OpenSeadragon !== 'function') return;
    box.setAttribute('data-viewer', source);
    var img = box.querySelector('img');
    var viewer = window.OpenSeadragon({
      element: box, tileSources: source, showNavigationControl: false, crossOriginPolicy: false,
      gestureSettingsMouse: { clickToZoom: false }, visibilityRatio: 1, minZoomImageRatio: 0.8
    });
    box.ccViewer = viewer;
    viewer.addHandler('open', function () {
      box.classList.add('zoom-ready');
      var r = regionOf(box.getAttribute('data-goto-region') || fig.getAttribute('data-region'));
      if (r) viewer.viewport.fitBounds(viewer.viewport.imageToViewportRectangle(r[0], r[1], r[2], r[3]), true);
      if (viewer.canvas && img) viewer.canvas.setAttribute('aria-label', img.alt);
    });
    // What the viewer shows goes out as cc:view-changed (a tour guide's page posts it):
    // the image pixel rectangle the view shows or is moving to, clamped to the image, at once when it starts to
    // move, then at most every VIEW_EVERY ms while it moves, and once more when it comes to rest.
    var timer = null;
    var last = '';
    function viewChanged() {
      timer = null;
      var item = viewer.world.getItemAt(0);
      if (!item) return;
      var size = item.getContentSize();
      var b = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds()); // where the view goes
      var x = Math.max(0, Math.round(b.x));
      var y = Math.max(0, Math.round(b.y));
      var w = Math.min(Math.round(size.x), Math.round(b.x + b.width)) - x;
      var h = Math.min(Math.round(size.y), Math.round(b.y + b.height)) - y;
      if (w < 1 || h < 1) return;
      var region = [x, y, w, h];
      if (region.join(',') === last) return;
      last = region.join(',');
      root.dispatchEvent(new CustomEvent('cc:view-changed', { detail: {
        section: Number(fig.getAttribute('data-section')), exhibit: Number(fig.getAttribute('data-index')), region: region
      } }));
    }
    // Shown again, the exhibit says afresh what is in sight.
    box.ccViewChanged = function () { last = ''; viewChanged(); };
    // The first change goes out at once, later ones at most every VIEW_EVERY ms.
    var lastAt = 0;
    function changing() {
      if (fig.hidden || timer !== null) return;
      var wait = lastAt + VIEW_EVERY - Date.now();
      timer = setTimeout(function () { lastAt = Date.now(); viewChanged(); }, Math.max(0, wait));
    }
    // zoom and pan come as the move begins (with where it goes), viewport-change as it is drawn.
    ['zoom', 'pan', 'viewport-change'].forEach(function (name) { viewer.addHandler(name, changing); });
    viewer.addHandler('animation-finish', function () {
      if (fig.hidden) return;
      if (timer !== null) clearTimeout(timer);
      viewChanged();
    });
    viewer.addHandler('open-failed', function () {
      box.classList.remove('zoom-ready');
      box.setAttribute('data-viewer-failed', '1');
      if (img) img.title = tr(root, 'zoom-failed');
    });
  }

  function initWalkthrough(root) {
    var figures = Array.prototype.slice.call(root.querySelectorAll('figure.exhibit'));
    if (!figures.length) return;
    var rooms = Array.prototype.slice.call(root.querySelectorAll('section.room'));
    var position = doc.getElementById('exhibit-position');
    var prev = doc.getElementById('exhibit-prev');
    var next = doc.getElementById('exhibit-next');
    var current = -1;
    root.classList.add('walking');

    function show(n, focus) {
      n = Math.max(0, Math.min(figures.length - 1, n));
      if (n === current) return;
      current = n;
      var fig = figures[n];
      figures.forEach(function (f, i) { f.hidden = i !== n; });
      rooms.forEach(function (r) { r.hidden = !r.contains(fig); });
      prev.disabled = n === 0;
      next.disabled = n === figures.length - 1;
      position.textContent = fill(tr(root, 'position'), { n: n + 1, total: figures.length, label: fig.getAttribute('data-label') });
      root.querySelectorAll('.overview-exhibit').forEach(function (a) {
        if (Number(a.getAttribute('data-n')) === n) a.setAttribute('aria-current', 'step'); else a.removeAttribute('aria-current');
      });
      root.setAttribute('data-current', String(n));
      if (window.history && window.history.replaceState) window.history.replaceState(null, '', '#exhibit-' + n);
      if (focus) fig.focus();
      // Others follow the walkthrough through this event (visit counts, a tour guide's page):
      // detail.section and detail.exhibit are a guide's position, detail.n the global number.
      root.dispatchEvent(new CustomEvent('cc:exhibit-shown', { detail: {
        n: n, section: Number(fig.getAttribute('data-section')), exhibit: Number(fig.getAttribute('data-index'))
      } }));
      // The deep zoom opens after: a guide's page has sent the move by then.
      openZoom(root, fig);
      var zoomBox = fig.querySelector('.deep-zoom');
      if (zoomBox && zoomBox.ccViewChanged) zoomBox.ccViewChanged();
    }

    prev.addEventListener('click', function () { show(current - 1, false); });
    next.addEventListener('click', function () { show(current + 1, false); });
    root.querySelectorAll('.overview-exhibit, .overview-section').forEach(function (a) {
      a.addEventListener('click', function (ev) {
        ev.preventDefault();
        show(Number(a.getAttribute('data-n')), true);
      });
    });
    doc.addEventListener('keydown', function (ev) {
      if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      var t = ev.target;
      // Arrows inside a form control, a player or the zoom viewer (where they pan) are theirs.
      if (t && t.closest && t.closest('input, textarea, select, audio, video, .deep-zoom.zoom-ready, .panorama-stage')) return;
      // On a tour's pages the walkthrough is one part among others (the video, the chat): its
      // arrows only while the focus is in it.
      if (root.closest('#tour') && !(t && t.nodeType === 1 && root.contains(t))) return;
      if (ev.key === 'ArrowLeft') { ev.preventDefault(); show(current - 1, true); }
      if (ev.key === 'ArrowRight') { ev.preventDefault(); show(current + 1, true); }
    });
    var startX = null;
    var startY = null;
    root.addEventListener('touchstart', function (ev) {
      if (ev.touches.length !== 1 || ev.target.closest('.deep-zoom.zoom-ready')) { startX = null; return; }
      startX = ev.touches[0].clientX;
      startY = ev.touches[0].clientY;
    }, { passive: true });
    root.addEventListener('touchend', function (ev) {
      if (startX === null) return;
      var dx = ev.changedTouches[0].clientX - startX;
      var dy = ev.changedTouches[0].clientY - startY;
      startX = null;
      if (Math.abs(dx) > SWIPE && Math.abs(dx) > 2 * Math.abs(dy)) show(current + (dx < 0 ? 1 : -1), false);
    });
    // cc:go moves the walkthrough to a position (a tour guide's, a panorama hotspot's):
    // detail.section and detail.exhibit as in cc:exhibit-shown, detail.region optional
    // "x,y,w,h" (array or text) in image pixels, zoomed to once the tiles are open.
    root.addEventListener('cc:go', function (ev) {
      var d = ev.detail || {};
      var fig = figures.filter(function (f) {
        return Number(f.getAttribute('data-section')) === d.section && Number(f.getAttribute('data-index')) === d.exhibit;
      })[0];
      if (!fig) return;
      show(figures.indexOf(fig), false);
      var box = fig.querySelector('.deep-zoom');
      var r = regionOf(Array.isArray(d.region) ? d.region.join(',') : d.region);
      if (!box || !r) return;
      box.setAttribute('data-goto-region', r.join(','));
      var viewer = box.ccViewer;
      if (viewer && viewer.world && viewer.world.getItemCount() > 0) {
        viewer.viewport.fitBounds(viewer.viewport.imageToViewportRectangle(r[0], r[1], r[2], r[3]), false);
      }
    });
    var m = /^#exhibit-(\d+)$/.exec(window.location.hash);
    show(m ? Number(m[1]) : 0, false);
  }

  // ---- Curators' editor ----------------------------------------------------------------

  function initEditor(root) {
    var CC = window.CC;
    var form = doc.getElementById('exhibition-form');
    var list = doc.getElementById('section-editor');
    var status = doc.getElementById('exhibition-form-status');
    var id = root.getAttribute('data-id');
    var version = root.getAttribute('data-version');
    var sections = [];
    try { sections = JSON.parse(root.getAttribute('data-sections') || '[]'); } catch (e) { sections = []; }

    function input(labelText, value, field, multiline) {
      var wrap = CC.el('div', null, 'field');
      var control = doc.createElement(multiline ? 'textarea' : 'input');
      control.id = 'f-' + field.replace(/[^a-z0-9]+/gi, '-');
      control.value = value || '';
      control.setAttribute('data-field', field);
      if (multiline) control.rows = 3;
      var label = CC.el('label', labelText);
      label.htmlFor = control.id;
      wrap.appendChild(label);
      wrap.appendChild(control);
      return wrap;
    }
    function button(text, action) {
      var b = CC.el('button', text);
      b.type = 'button';
      b.addEventListener('click', action);
      return b;
    }
    // move swaps arr[i] with its neighbour i+by and tells whether it did.
    function move(arr, i, by) {
      var j = i + by;
      if (j < 0 || j >= arr.length) return false;
      var t = arr[i]; arr[i] = arr[j]; arr[j] = t;
      return true;
    }
    // A room's hotspots name its exhibits, and links name other rooms, by their place: when
    // exhibits or rooms move or go, to(old place) is the new one, or -1 for one removed
    // (whose hotspots and links go too).
    function swapped(a, b) { return function (k) { return k === a ? b : (k === b ? a : k); }; }
    function removed(r) { return function (k) { return k === r ? -1 : (k > r ? k - 1 : k); }; }
    function remap(places, key, to) {
      return (places || []).map(function (p) {
        var k = Number(p[key]);
        if (String(p[key]).trim() === '' || !isFinite(k)) return p; // typed nonsense: the server names it
        p[key] = to(k);
        return p;
      }).filter(function (p) { return p[key] !== -1; });
    }
    function remapHotspots(sec, to) {
      if (sec.hotspots) sec.hotspots = remap(sec.hotspots, 'exhibit', to);
      // The exhibit an open preview's click places a hotspot for follows it too.
      var i = sections.indexOf(sec);
      var m = previews[i] && /^h:(\d+)$/.exec(previews[i].mode || '');
      if (m) previews[i].mode = to(Number(m[1])) >= 0 ? 'h:' + to(Number(m[1])) : '';
    }
    function remapLinks(to) {
      sections.forEach(function (sec) { if (sec.links) sec.links = remap(sec.links, 'section', to); });
    }
    function regionText(r) { return r ? [r.x, r.y, r.w, r.h].join(',') : ''; }

    // collect reads what the fields say back into sections, so that a re-render keeps it.
    function collect() {
      list.querySelectorAll('[data-field]').forEach(function (c) {
        var m = /^sections\[(\d+)\]\.(title|intro|kind)$/.exec(c.getAttribute('data-field'));
        if (m) { sections[Number(m[1])][m[2]] = c.value; return; }
        if (collectPanorama(sections, c)) return;
        m = /^sections\[(\d+)\]\.exhibits\[(\d+)\]\.(item|file|label|text_zh|text_en|audio_guide|region)$/.exec(c.getAttribute('data-field'));
        if (!m) return;
        var ex = sections[Number(m[1])].exhibits[Number(m[2])];
        if (m[3] !== 'region') { ex[m[3]] = c.value.trim(); return; }
        var r = regionOf(c.value);
        if (r) ex.region = { x: r[0], y: r[1], w: r[2], h: r[3] }; else delete ex.region;
      });
    }

    function render() {
      list.textContent = '';
      sections.forEach(function (sec, i) {
        sec.exhibits = sec.exhibits || [];
        var li = CC.el('li', null, 'section-edit');
        var fs = doc.createElement('fieldset');
        fs.appendChild(CC.el('legend', fill(tr(root, 'section'), { n: i + 1 })));
        var f = 'sections[' + i + ']';
        fs.appendChild(input(tr(root, 'section-title'), sec.title, f + '.title'));
        fs.appendChild(input(tr(root, 'section-intro'), sec.intro, f + '.intro', true));
        fs.appendChild(kindSelect(root, sec, f, function () { collect(); render(); }));
        if (sec.kind === 'panorama') {
          fs.appendChild(panoramaEditor(root, sections, i, {
            input: input, button: button, status: status, rerender: function () { collect(); render(); }
          }));
        }
        var exList = CC.el('ol', null, 'exhibit-editor');
        sec.exhibits.forEach(function (ex, j) {
          var exLi = CC.el('li', null, 'exhibit-edit');
          var exFs = doc.createElement('fieldset');
          exFs.appendChild(CC.el('legend', fill(tr(root, 'exhibit'), { n: j + 1 })));
          var g = f + '.exhibits[' + j + ']';
          exFs.appendChild(input(tr(root, 'item'), ex.item, g + '.item'));
          exFs.appendChild(input(tr(root, 'file'), ex.file, g + '.file'));
          exFs.appendChild(input(tr(root, 'region'), regionText(ex.region), g + '.region'));
          exFs.appendChild(input(tr(root, 'label'), ex.label, g + '.label'));
          exFs.appendChild(input(tr(root, 'text-zh'), ex.text_zh, g + '.text_zh', true));
          exFs.appendChild(input(tr(root, 'text-en'), ex.text_en, g + '.text_en', true));
          exFs.appendChild(input(tr(root, 'audio'), ex.audio_guide, g + '.audio_guide'));
          exFs.appendChild(button(tr(root, 'up'), function () {
            collect(); if (move(sec.exhibits, j, -1)) remapHotspots(sec, swapped(j, j - 1)); render();
          }));
          exFs.appendChild(button(tr(root, 'down'), function () {
            collect(); if (move(sec.exhibits, j, 1)) remapHotspots(sec, swapped(j, j + 1)); render();
          }));
          exFs.appendChild(button(tr(root, 'remove'), function () {
            collect(); sec.exhibits.splice(j, 1); remapHotspots(sec, removed(j)); render();
          }));
          exLi.appendChild(exFs);
          exList.appendChild(exLi);
        });
        fs.appendChild(exList);
        fs.appendChild(button(tr(root, 'add-exhibit'), function () {
          collect(); sec.exhibits.push({ item: '', label: '', text_zh: '' }); render();
        }));
        fs.appendChild(button(tr(root, 'up'), function () {
          collect(); if (move(sections, i, -1)) remapLinks(swapped(i, i - 1)); closePreviews(); render();
        }));
        fs.appendChild(button(tr(root, 'down'), function () {
          collect(); if (move(sections, i, 1)) remapLinks(swapped(i, i + 1)); closePreviews(); render();
        }));
        fs.appendChild(button(tr(root, 'remove'), function () {
          collect(); sections.splice(i, 1); remapLinks(removed(i)); closePreviews(); render();
        }));
        li.appendChild(fs);
        list.appendChild(li);
      });
    }

    function body() {
      collect();
      var v = function (sel) { return doc.getElementById(sel).value.trim(); };
      var b = {
        title: v('exh-title'), subtitle: v('exh-subtitle'), curator: v('exh-curator'), unit: v('exh-unit'),
        theme: v('exh-theme'), introduction: v('exh-intro'), opens: v('exh-opens'), closes: v('exh-closes'),
        permanent: doc.getElementById('exh-permanent').checked, sections: sections
      };
      if (b.permanent) b.closes = '';
      b.sections = sections.map(sectionBody);
      if (v('exh-cover')) {
        b.cover = { item: v('exh-cover') };
        if (v('exh-cover-file')) b.cover.file = v('exh-cover-file');
      }
      return b;
    }

    doc.getElementById('add-section').addEventListener('click', function () {
      collect();
      sections.push({ title: '', intro: '', exhibits: [] });
      render();
      var fields = list.querySelectorAll('input');
      if (fields.length) fields[fields.length - 1].focus();
    });
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      CC.clearErrors(form);
      var res = id ? await CC.api('PUT', '/api/v1/exhibitions/' + encodeURIComponent(id), body(), { 'If-Match': CC.quoted(version) })
        : await CC.api('POST', '/api/v1/exhibitions', body());
      if (!res.ok) { CC.showErrors(form, status, res); return; }
      version = CC.versionOf(res.etag);
      if (!id) { window.location.href = '/console/exhibitions/' + encodeURIComponent(res.body.id); return; }
      CC.setStatus(status, 'ok', [tr(root, 'saved')]);
    });
    form.querySelectorAll('.exhibition-move').forEach(function (b) {
      b.addEventListener('click', async function () {
        var to = b.getAttribute('data-to');
        // Publishing a draft where nobody reviews is two steps of the workflow.
        var steps = to === 'published' && root.getAttribute('data-status') === 'draft' ? ['in_review', to] : [to];
        for (var i = 0; i < steps.length; i++) {
          var res = await CC.api('POST', '/api/v1/exhibitions/' + encodeURIComponent(id) + '/status', { status: steps[i] },
            { 'If-Match': CC.quoted(version) });
          if (!res.ok) { CC.showErrors(form, status, res); return; }
          version = CC.versionOf(res.etag);
        }
        window.location.reload();
      });
    });
    render();
  }

  // ---- Panorama rooms in the editor ------------------------------------------------------
  // A panorama room has a scene (an item, and optionally its file), hotspots that open one
  // of its exhibits and links to other panorama rooms, each at a yaw and pitch in degrees.
  // They can be typed as numbers, or placed by a click on a preview of the scene
  // (CCPanorama.preview, from panorama.js).

  var previews = {}; // section index → {box, handle, scene}

  function closePreviews() {
    Object.keys(previews).forEach(function (k) { if (previews[k].handle) previews[k].handle.destroy(); });
    previews = {};
  }

  function numberOr(text, fallback) {
    var n = Number(String(text).trim());
    return String(text).trim() !== '' && isFinite(n) ? n : fallback;
  }

  function collectPanorama(sections, c) {
    var m = /^sections\[(\d+)\]\.scene\.(item|file)$/.exec(c.getAttribute('data-field'));
    if (m) {
      var sec = sections[Number(m[1])];
      sec.scene = sec.scene || {};
      sec.scene[m[2]] = c.value.trim();
      return true;
    }
    m = /^sections\[(\d+)\]\.(hotspots|links)\[(\d+)\]\.(exhibit|section|yaw|pitch)$/.exec(c.getAttribute('data-field'));
    if (!m) return false;
    var place = sections[Number(m[1])][m[2]][Number(m[3])];
    place[m[4]] = numberOr(c.value, c.value.trim());
    return true;
  }

  // sectionBody is a room as the API takes it: a gallery carries nothing of a panorama.
  function sectionBody(sec) {
    var out = {};
    Object.keys(sec).forEach(function (k) { out[k] = sec[k]; });
    if (out.kind !== 'panorama') {
      delete out.scene; delete out.hotspots; delete out.links;
      return out;
    }
    if (!out.scene || !out.scene.item) { delete out.scene; } else {
      out.scene = { item: out.scene.item };
      if (sec.scene.file) out.scene.file = sec.scene.file;
    }
    return out;
  }

  function kindSelect(root, sec, f, changed) {
    var wrap = CCel('div', null, 'field');
    var sel = doc.createElement('select');
    sel.id = 'f-' + f.replace(/[^a-z0-9]+/gi, '-') + '-kind';
    sel.setAttribute('data-field', f + '.kind');
    [['gallery', 'kind-gallery'], ['panorama', 'kind-panorama']].forEach(function (o) {
      var opt = CCel('option', tr(root, o[1]));
      opt.value = o[0];
      opt.selected = (sec.kind || 'gallery') === o[0];
      sel.appendChild(opt);
    });
    sel.addEventListener('change', changed);
    var label = CCel('label', tr(root, 'kind'));
    label.htmlFor = sel.id;
    wrap.appendChild(label);
    wrap.appendChild(sel);
    return wrap;
  }

  function CCel(tag, text, cls) { return window.CC.el(tag, text, cls); }

  // sceneURL finds the image a preview shows: the scene's file, else the item's first image.
  async function sceneURL(scene) {
    var res = await window.CC.api('GET', '/api/v1/items/' + encodeURIComponent(scene.item));
    if (!res.ok) return '';
    var files = (res.body && res.body.files) || [];
    var f = files.filter(function (x) {
      return scene.file ? x.sha256 === scene.file : /^image\//.test(x.media_type || '');
    })[0];
    if (!f) return '';
    // As the walkthrough does: the file itself, or the image service's rendering of a large one.
    if (f.size > 12 * 1024 * 1024) return '/iiif/3/' + encodeURIComponent(scene.item + '~' + f.sha256) + '/full/max/0/default.jpg';
    return '/api/v1/items/' + encodeURIComponent(scene.item) + '/files/' + f.path.split('/').map(encodeURIComponent).join('/');
  }

  function panoramaEditor(root, sections, i, ui) {
    var sec = sections[i];
    sec.hotspots = sec.hotspots || [];
    sec.links = sec.links || [];
    sec.scene = sec.scene || { item: '' };
    var f = 'sections[' + i + ']';
    var box = CCel('div', null, 'panorama-edit');
    box.appendChild(ui.input(tr(root, 'scene'), sec.scene.item, f + '.scene.item'));
    box.appendChild(ui.input(tr(root, 'scene-file'), sec.scene.file, f + '.scene.file'));

    // Where a click on the preview places something: a hotspot for an exhibit, or a link.
    var modeWrap = CCel('div', null, 'field');
    var mode = doc.createElement('select');
    mode.id = 'place-mode-' + i;
    mode.className = 'place-mode';
    sec.exhibits.forEach(function (ex, j) {
      var o = CCel('option', tr(root, 'place-hotspot') + ' ' + (j + 1) + (ex.label ? '：' + ex.label : ''));
      o.value = 'h:' + j;
      mode.appendChild(o);
    });
    sections.forEach(function (other, k) {
      if (k === i || other.kind !== 'panorama') return;
      var o = CCel('option', tr(root, 'place-link') + ' ' + (k + 1) + (other.title ? '：' + other.title : ''));
      o.value = 'l:' + k;
      mode.appendChild(o);
    });
    var modeLabel = CCel('label', tr(root, 'place'));
    modeLabel.htmlFor = mode.id;
    modeWrap.appendChild(modeLabel);
    modeWrap.appendChild(mode);
    if (previews[i] && previews[i].mode) mode.value = previews[i].mode;
    if (previews[i]) previews[i].mode = mode.value; // what the list shows, if its choice went
    mode.addEventListener('change', function () { if (previews[i]) previews[i].mode = mode.value; });

    var view = previews[i] ? previews[i].box : CCel('div', null, 'panorama-preview');
    view.id = 'panorama-preview-' + i;
    if (!previews[i]) view.hidden = true;
    var note = CCel('p', '', 'muted');
    note.setAttribute('aria-live', 'polite');
    var open = ui.button(tr(root, 'preview-scene'), async function () {
      ui.rerender();
      // The re-render made a new note: the one of this closure is no longer on the page.
      var shown = function () { return doc.getElementById('panorama-note-' + i) || note; };
      var url = await sceneURL(sections[i].scene || {});
      if (!url) { shown().textContent = tr(root, 'no-preview'); return; }
      if (previews[i] && previews[i].handle) previews[i].handle.destroy();
      var v = doc.getElementById('panorama-preview-' + i);
      v.hidden = false;
      previews[i] = { box: v, handle: null, mode: doc.getElementById('place-mode-' + i).value };
      if (!window.CCPanorama) { shown().textContent = tr(root, 'no-preview'); return; }
      window.CCPanorama.preview(v, url, function (at) {
        var how = (previews[i] && previews[i].mode) || '';
        var m = /^([hl]):(\d+)$/.exec(how);
        if (!m) return;
        ui.rerender(); // keeps what was typed
        if (m[1] === 'h') sections[i].hotspots.push({ exhibit: Number(m[2]), yaw: at.yaw, pitch: at.pitch });
        else sections[i].links.push({ section: Number(m[2]), yaw: at.yaw, pitch: at.pitch });
        ui.rerender();
        var live = doc.getElementById('panorama-note-' + i);
        if (live) live.textContent = tr(root, 'placed');
      }).then(function (h) {
        previews[i].handle = h;
        markPreview(root, sections, i);
      }, function () {
        v.hidden = true;
        shown().textContent = tr(root, 'no-preview');
      });
    });
    open.className = 'panorama-open';
    box.appendChild(open);
    box.appendChild(modeWrap);
    box.appendChild(view);
    note.id = 'panorama-note-' + i;
    box.appendChild(note);

    // The exhibits a hotspot can open and the rooms a link can lead to, by the numbers the
    // legends show (from 1) and their labels; the value is the place (from 0) the API takes.
    var exhibitChoices = sec.exhibits.map(function (ex, j) {
      return { value: j, text: (j + 1) + (ex.label ? '：' + ex.label : (ex.item ? '：' + ex.item : '')) };
    });
    var roomChoices = [];
    sections.forEach(function (other, k) {
      if (k !== i && other.kind === 'panorama') roomChoices.push({ value: k, text: (k + 1) + (other.title ? '：' + other.title : '') });
    });
    function choice(labelText, value, field, choices) {
      var wrap = CCel('div', null, 'field');
      var sel = doc.createElement('select');
      sel.id = 'f-' + field.replace(/[^a-z0-9]+/gi, '-');
      sel.setAttribute('data-field', field);
      var list = choices.slice();
      // A place none of the choices is (typed through the API, or a gallery room) stays as it is.
      if (!list.some(function (c) { return String(c.value) === String(value); })) {
        list.unshift({ value: value, text: isFinite(Number(value)) && String(value).trim() !== '' ? String(Number(value) + 1) : String(value) });
      }
      list.forEach(function (c) {
        var o = CCel('option', c.text);
        o.value = String(c.value);
        o.selected = String(c.value) === String(value);
        sel.appendChild(o);
      });
      var label = CCel('label', labelText);
      label.htmlFor = sel.id;
      wrap.appendChild(label);
      wrap.appendChild(sel);
      return wrap;
    }

    function rows(kind, key, keyLabel, legend) {
      var ol = CCel('ol', null, kind + '-list');
      sec[kind].forEach(function (p, j) {
        var li = CCel('li', null, kind === 'hotspots' ? 'hotspot-edit' : 'link-edit');
        li.appendChild(CCel('span', fill(tr(root, legend), { n: j + 1 })));
        var g = f + '.' + kind + '[' + j + ']';
        li.appendChild(choice(tr(root, keyLabel), p[key], g + '.' + key, kind === 'hotspots' ? exhibitChoices : roomChoices));
        // Numbers as text: 0 is a place like any other, not an empty field.
        li.appendChild(ui.input(tr(root, 'yaw'), String(p.yaw), g + '.yaw'));
        li.appendChild(ui.input(tr(root, 'pitch'), String(p.pitch), g + '.pitch'));
        li.appendChild(ui.button(tr(root, 'remove'), function () { ui.rerender(); sec[kind].splice(j, 1); ui.rerender(); }));
        ol.appendChild(li);
      });
      box.appendChild(ol);
    }
    rows('hotspots', 'exhibit', 'hotspot-exhibit', 'hotspot');
    box.appendChild(ui.button(tr(root, 'add-hotspot'), function () {
      ui.rerender(); sec.hotspots.push({ exhibit: 0, yaw: 0, pitch: 0 }); ui.rerender();
    }));
    rows('links', 'section', 'link-section', 'link');
    box.appendChild(ui.button(tr(root, 'add-link'), function () {
      ui.rerender(); sec.links.push({ section: roomChoices.length ? roomChoices[0].value : (i === 0 ? 1 : 0), yaw: 0, pitch: 0 }); ui.rerender();
    }));
    if (previews[i] && previews[i].handle) setTimeout(function () { markPreview(root, sections, i); }, 0);
    return box;
  }

  // markPreview shows the room's hotspots and links on its preview.
  function markPreview(root, sections, i) {
    var p = previews[i];
    var sec = sections[i];
    if (!p || !p.handle || !sec) return;
    var marks = [];
    (sec.hotspots || []).forEach(function (h, j) {
      if (isFinite(h.yaw) && isFinite(h.pitch)) {
        marks.push({ id: 'h' + j, yaw: h.yaw, pitch: h.pitch, text: String(Number(h.exhibit) + 1), label: fill(tr(root, 'hotspot'), { n: j + 1 }) });
      }
    });
    (sec.links || []).forEach(function (l, j) {
      if (isFinite(l.yaw) && isFinite(l.pitch)) {
        marks.push({ id: 'l' + j, yaw: l.yaw, pitch: l.pitch, link: true, text: '→', label: fill(tr(root, 'link'), { n: j + 1 }) });
      }
    });
    p.handle.setMarkers(marks);
  }

  function init() {
    var walk = doc.getElementById('exhibition');
    if (walk) initWalkthrough(walk);
    var editor = doc.getElementById('console-exhibition');
    if (editor && window.CC) initEditor(editor);
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
