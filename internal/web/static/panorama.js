// Panorama halls of the cloud exhibitions: the 720° rooms of a walkthrough shown with Photo
// Sphere Viewer (vendored ES modules, imported when a page has such a room), and the curators'
// preview in the exhibition editor, where a click places a hotspot or a link.
//
// The walkthrough (exhibitions.js) stays in charge of which exhibit is shown: a hotspot or a
// room link dispatches cc:go on #exhibition, and this script follows cc:exhibit-shown. One
// viewer serves every panorama room (one WebGL context): it moves into the room being shown
// and its virtual tour switches to that room's scene. A cc:go whose detail has yaw, pitch
// (degrees) and zoom (0–100) turns the view; whenever the view moves, cc:view-changed
// {section, exhibit, yaw, pitch, zoom} is dispatched (at most every 200 ms, and once more when
// it stops). Without WebGL, or without the vendored viewer, a room stays the plain list of
// its exhibits with a notice.
(function () {
  'use strict';

  var doc = document;
  var VENDOR = '/vendor/';
  var THROTTLE = 200; // ms between two cc:view-changed
  var RAD = Math.PI / 180;

  function tr(el, name) { return (el && el.getAttribute('data-t-' + name)) || ''; }
  function fill(template, values) {
    var out = template || '';
    Object.keys(values).forEach(function (k) { out = out.split('{' + k + '}').join(String(values[k])); });
    return out;
  }
  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function num(el, name) { return Number(el.getAttribute(name)); }
  function round(x) { return Math.round(x * 100) / 100; }

  // webgl reports whether the browser can draw the scene.
  function webgl() {
    try {
      if (typeof window.WebGLRenderingContext === 'undefined') return false;
      var c = doc.createElement('canvas');
      return !!(c.getContext('webgl2') || c.getContext('webgl'));
    } catch (e) {
      return false;
    }
  }

  // loadViewer imports the vendored Photo Sphere Viewer and its two plugins.
  function loadViewer() {
    return Promise.all([
      import(VENDOR + 'psv-core.module.js'),
      import(VENDOR + 'psv-markers.module.js'),
      import(VENDOR + 'psv-virtual-tour.module.js')
    ]).then(function (m) {
      return { Viewer: m[0].Viewer, MarkersPlugin: m[1].MarkersPlugin, VirtualTourPlugin: m[2].VirtualTourPlugin };
    });
  }

  // position is the viewer's direction in the guide's degrees (yaw -180..180).
  function position(viewer) {
    var p = viewer.getPosition();
    var yaw = p.yaw / RAD;
    if (yaw > 180) yaw -= 360;
    return { yaw: round(yaw), pitch: round(p.pitch / RAD), zoom: round(viewer.getZoomLevel()) };
  }

  // ---- Walkthrough ---------------------------------------------------------------------

  function initWalkthrough(root) {
    var rooms = {};
    Array.prototype.forEach.call(root.querySelectorAll('.panorama'), function (el) {
      rooms[num(el, 'data-section')] = el;
    });
    var sections = Object.keys(rooms).map(Number);
    if (!sections.length) return;
    var current = { section: -1, exhibit: 0 };
    var viewer = null;
    var tour = null;
    var stage = null;
    var pendingView = null; // a cc:go's view, applied once the scene is there
    var failed = false;

    function go(section, exhibit) {
      root.dispatchEvent(new CustomEvent('cc:go', { detail: { section: section, exhibit: exhibit } }));
    }

    // The plain lists work with or without the viewer: a hotspot shows its exhibit, a link
    // the other room's first.
    sections.forEach(function (s) {
      rooms[s].querySelectorAll('.panorama-spot').forEach(function (a) {
        a.addEventListener('click', function (ev) { ev.preventDefault(); go(num(a, 'data-section'), num(a, 'data-exhibit')); });
      });
      rooms[s].querySelectorAll('.panorama-link').forEach(function (a) {
        a.addEventListener('click', function (ev) { ev.preventDefault(); go(num(a, 'data-section'), 0); });
      });
    });

    function fallback() {
      failed = true;
      root.setAttribute('data-panorama', 'fallback');
      sections.forEach(function (s) {
        rooms[s].classList.add('panorama-off');
        rooms[s].querySelector('.panorama-fallback').hidden = false;
      });
    }

    // shownRoom is the section of the exhibit the walkthrough shows (all are shown without it).
    function shownRoom() {
      var fig = root.classList.contains('walking') ? root.querySelector('figure.exhibit:not([hidden])') : null;
      if (fig) return { section: num(fig, 'data-section'), exhibit: num(fig, 'data-index') };
      return { section: sections[0], exhibit: 0 };
    }

    function node(s) {
      var el = rooms[s];
      return {
        id: String(s),
        panorama: el.getAttribute('data-scene'),
        // The plugin puts the name into the link tooltip as HTML (<h3>name</h3>); the title is
        // the curators' plain text.
        name: escapeHTML(el.getAttribute('data-title') || ''),
        links: Array.prototype.map.call(el.querySelectorAll('.panorama-link'), function (a) {
          return { nodeId: a.getAttribute('data-section'), position: { yaw: num(a, 'data-yaw') * RAD, pitch: num(a, 'data-pitch') * RAD } };
        }).filter(function (l) { return rooms[Number(l.nodeId)]; }),
        markers: Array.prototype.map.call(el.querySelectorAll('.panorama-spot'), function (a) {
          var label = fill(tr(el, 'spot'), { label: a.textContent });
          return {
            id: 'spot-' + s + '-' + a.getAttribute('data-exhibit'),
            position: { yaw: num(a, 'data-yaw') * RAD, pitch: num(a, 'data-pitch') * RAD },
            // Pointer only: the hotspot list below the viewer is the keyboard's and the screen
            // reader's way to the same exhibits.
            html: '<span class="panorama-marker" aria-hidden="true" data-label="' + escapeHTML(label) + '">' +
              (num(a, 'data-exhibit') + 1) + '</span>',
            anchor: 'center center', size: { width: 44, height: 44 },
            tooltip: escapeHTML(a.textContent),
            data: { section: s, exhibit: num(a, 'data-exhibit') }
          };
        })
      };
    }

    function linkElement(link) {
      var target = rooms[Number(link.nodeId)];
      var el = doc.createElement('span');
      el.className = 'panorama-marker panorama-marker-link';
      // Pointer only, as the hotspots: the list of links below the viewer is the keyboard's.
      el.setAttribute('aria-hidden', 'true');
      el.setAttribute('data-label', fill(tr(target, 'link'), { title: target ? target.getAttribute('data-title') : '' }));
      el.setAttribute('data-section', link.nodeId);
      el.textContent = '→';
      return el;
    }

    var last = 0;
    var timer = null;
    function emit() {
      if (!viewer || current.section < 0) return;
      var p = position(viewer);
      root.dispatchEvent(new CustomEvent('cc:view-changed', { detail: {
        section: current.section, exhibit: current.exhibit, yaw: p.yaw, pitch: p.pitch, zoom: p.zoom
      } }));
    }
    function viewMoved() {
      var now = Date.now();
      if (now - last >= THROTTLE) { last = now; emit(); }
      clearTimeout(timer);
      timer = setTimeout(function () { last = Date.now(); emit(); }, THROTTLE);
    }

    function applyView() {
      if (!viewer || !pendingView || !tour || tour.getCurrentNode().id !== String(pendingView.section)) return;
      var v = pendingView;
      pendingView = null;
      if (isFinite(v.yaw) && isFinite(v.pitch)) viewer.rotate({ yaw: v.yaw * RAD, pitch: v.pitch * RAD });
      if (isFinite(v.zoom)) viewer.zoom(Math.max(0, Math.min(100, v.zoom)));
    }

    // enter puts the viewer into the room s and shows its scene (once the first scene is
    // there: the tour loads one node at a time).
    var ready = false;
    var wanted = '';
    function enter(s) {
      var slot = rooms[s].querySelector('.panorama-slot');
      if (stage.parentNode !== slot) slot.appendChild(stage);
      if (!ready) return;
      if (typeof viewer.autoSize === 'function') viewer.autoSize();
      if (wanted === String(s)) { applyView(); return; }
      wanted = String(s);
      tour.setCurrentNode(wanted).then(applyView, function () { root.setAttribute('data-panorama-error', String(s)); });
    }

    // start makes the viewer in room s, the first panorama room shown (not before: a page
    // whose walker never enters one loads no scene).
    function start(psv, s) {
      stage = doc.createElement('div');
      stage.className = 'panorama-stage';
      rooms[s].querySelector('.panorama-slot').appendChild(stage);
      viewer = new psv.Viewer({
        container: stage,
        navbar: ['zoom', 'move', 'caption', 'fullscreen'],
        defaultZoomLvl: 0,
        touchmoveTwoFingers: false,
        plugins: [
          [psv.MarkersPlugin, {}],
          [psv.VirtualTourPlugin, {
            positionMode: 'manual', renderMode: '2d', nodes: sections.map(node),
            startNodeId: String(s),
            linksOnCompass: false, preload: false,
            // A link is drawn as a labelled marker, like the hotspots, rather than the plugin's
            // unlabelled arrow.
            arrowStyle: { size: { width: 44, height: 44 }, element: linkElement }
          }]
        ]
      });
      stage.ccViewer = viewer;
      var markers = viewer.getPlugin(psv.MarkersPlugin);
      tour = viewer.getPlugin(psv.VirtualTourPlugin);
      markers.addEventListener('select-marker', function (ev) {
        var d = ev.marker && ev.marker.config && ev.marker.config.data;
        if (d) go(d.section, d.exhibit);
      });
      tour.addEventListener('node-changed', function (ev) {
        root.setAttribute('data-panorama-node', ev.node.id);
        if (ev.node.id !== wanted) { // a link was followed: the walkthrough goes there too
          wanted = ev.node.id;
          go(Number(ev.node.id), 0);
        }
        applyView();
      });
      wanted = String(s);
      viewer.addEventListener('ready', function () {
        ready = true;
        root.setAttribute('data-panorama', 'ready');
        if (rooms[current.section]) enter(current.section);
      }, { once: true });
      viewer.addEventListener('panorama-error', function (ev) {
        root.setAttribute('data-panorama-error', String((ev.error && ev.error.message) || ev.error || 'error'));
      });
      viewer.addEventListener('position-updated', viewMoved);
      viewer.addEventListener('zoom-updated', viewMoved);
    }

    var modules = null; // the viewer's modules, once imported
    root.addEventListener('cc:exhibit-shown', function (ev) {
      var d = ev.detail || {};
      current = { section: d.section, exhibit: d.exhibit };
      if (!rooms[d.section]) return;
      if (viewer) enter(d.section); else if (modules) start(modules, d.section);
    });
    root.addEventListener('cc:go', function (ev) {
      var d = ev.detail || {};
      if (!rooms[d.section] || typeof d.yaw !== 'number' || typeof d.pitch !== 'number') return;
      pendingView = { section: d.section, yaw: d.yaw, pitch: d.pitch, zoom: typeof d.zoom === 'number' ? d.zoom : NaN };
      applyView();
    });

    current = shownRoom();
    if (!webgl()) { fallback(); return; }
    root.setAttribute('data-panorama', 'loading');
    loadViewer().then(function (psv) {
      if (failed) return;
      modules = psv;
      current = shownRoom();
      if (rooms[current.section] && !viewer) start(psv, current.section);
      else if (!viewer) root.setAttribute('data-panorama', 'idle'); // until the walk enters a hall
    }).catch(function (err) {
      if (window.console) window.console.warn('panorama viewer', err);
      fallback();
    });
  }

  // ---- Curators' preview -----------------------------------------------------------------

  // The editor (exhibitions.js) calls CCPanorama.preview(box, sceneURL, onClick) to show a
  // scene in box; onClick gets {yaw, pitch} in degrees. It resolves to a handle with
  // setMarkers([{id, yaw, pitch, label}]) and destroy(), or rejects without WebGL or viewer.
  function preview(box, scene, onClick) {
    if (!webgl()) return Promise.reject(new Error('no WebGL'));
    return loadViewer().then(function (psv) {
      var viewer = new psv.Viewer({ container: box, panorama: scene, navbar: ['zoom', 'move', 'fullscreen'],
        plugins: [[psv.MarkersPlugin, {}]] });
      box.ccViewer = viewer;
      var markers = viewer.getPlugin(psv.MarkersPlugin);
      viewer.addEventListener('click', function (ev) {
        var d = ev.data;
        if (!d || d.rightclick || d.marker) return;
        var yaw = d.yaw / RAD;
        if (yaw > 180) yaw -= 360;
        onClick({ yaw: round(yaw), pitch: round(d.pitch / RAD) });
      });
      viewer.addEventListener('ready', function () { box.setAttribute('data-ready', '1'); }, { once: true });
      return {
        setMarkers: function (list) {
          markers.setMarkers(list.map(function (m) {
            return { id: m.id, position: { yaw: m.yaw * RAD, pitch: m.pitch * RAD }, anchor: 'center center',
              size: { width: 36, height: 36 }, tooltip: escapeHTML(m.label),
              html: '<span class="panorama-marker ' + (m.link ? 'panorama-marker-link' : '') + '" role="img" aria-label="' +
                escapeHTML(m.label) + '">' + escapeHTML(m.text) + '</span>' };
          }));
        },
        destroy: function () { viewer.destroy(); box.ccViewer = null; }
      };
    });
  }
  window.CCPanorama = { preview: preview };

  function init() {
    var walk = doc.getElementById('exhibition');
    if (walk) initWalkthrough(walk);
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
