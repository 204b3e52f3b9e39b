// Shizuishan Culture Cloud: elderly-mode toggle and JSON forms. No dependencies.
(function () {
  'use strict';

  var doc = document;
  var root = doc.documentElement;
  var lang = root.lang || 'zh-CN';

  function msg(name) { return doc.body.getAttribute('data-msg-' + name) || ''; }

  function csrfToken() {
    var m = doc.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : '';
  }

  // api sends one request and resolves to {ok, status, body}; body is the parsed JSON or null.
  async function api(method, url, data) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json, application/problem+json', 'Accept-Language': lang }
    };
    if (method !== 'GET' && method !== 'HEAD') {
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
    return { ok: res.ok, status: res.status, body: body };
  }

  function el(tag, text, cls) {
    var e = doc.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  // setStatus replaces what a status region says; errors go in a role=alert child.
  function setStatus(region, kind, lines) {
    if (!region) return;
    region.textContent = '';
    if (!kind) return;
    var box = el('div', null, 'status-' + kind);
    if (kind === 'error') box.setAttribute('role', 'alert');
    lines.filter(Boolean).forEach(function (l) { box.appendChild(el('p', l)); });
    region.appendChild(box);
  }

  function statusOf(form) { return form.querySelector('.form-status'); }

  // showProblem shows an RFC 9457 problem: title and detail in the status region, each
  // field error next to its input.
  function showProblem(form, res) {
    var p = res.body || {};
    var lines = [p.title || msg('error'), p.detail];
    var first = null;
    (Array.isArray(p.errors) ? p.errors : []).forEach(function (fe) {
      var input = fe.field && form.elements.namedItem(fe.field);
      if (!input || !input.id) { lines.push((fe.field ? fe.field + ': ' : '') + fe.message); return; }
      var errId = input.id + '-error';
      var note = doc.getElementById(errId);
      if (!note) {
        note = el('p', null, 'field-error');
        note.id = errId;
        var hint = doc.getElementById(input.id + '-hint');
        (hint || input).after(note);
      }
      note.textContent = fe.message;
      input.setAttribute('aria-invalid', 'true');
      var described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      if (described.indexOf(errId) < 0) described.push(errId);
      input.setAttribute('aria-describedby', described.join(' '));
      if (!first) first = input;
    });
    setStatus(statusOf(form), 'error', lines);
    if (first) first.focus();
  }

  function clearErrors(form) {
    form.querySelectorAll('.field-error').forEach(function (n) {
      var input = doc.getElementById(n.id.replace(/-error$/, ''));
      if (input) {
        input.removeAttribute('aria-invalid');
        var rest = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(function (id) { return id && id !== n.id; });
        if (rest.length) input.setAttribute('aria-describedby', rest.join(' ')); else input.removeAttribute('aria-describedby');
      }
      n.remove();
    });
  }

  // collect turns the named controls into a JSON object; empty optional fields are left out
  // and number inputs are sent as numbers.
  function collect(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (c) {
      if (!c.name || c.disabled || c.type === 'submit' || c.type === 'button') return;
      if (c.type === 'checkbox') { data[c.name] = c.checked; return; }
      if (c.type === 'radio') { if (c.checked) data[c.name] = c.value; return; }
      if (c.value === '' && !c.required) return;
      if (c.type === 'number') { var n = c.valueAsNumber; data[c.name] = isNaN(n) ? c.value : n; return; }
      data[c.name] = c.value;
    });
    return data;
  }

  function localPath(p) { return typeof p === 'string' && /^\/(?![\/\\])/.test(p) ? p : '/'; }

  var after = {
    token: function (body) {
      var box = doc.getElementById('new-token-box');
      var input = doc.getElementById('new-token');
      if (box && input && body && body.token) {
        input.value = body.token;
        box.hidden = false;
        input.focus();
        input.select();
      }
      loadTokens();
    },
    // The search index follows a write within a second or two: look again once it has.
    accounts: function () {
      var form = doc.getElementById('accounts-search');
      searchAccounts(form);
      setTimeout(function () { searchAccounts(form); }, 1500);
    },
    reload: function () { window.location.reload(); }
  };

  async function submitForm(form) {
    var button = form.querySelector('[type="submit"]');
    var region = statusOf(form);
    clearErrors(form);
    if (button) button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    setStatus(region, 'info', [msg('saving')]);
    var leaving = false;
    try {
      var res = await api((form.getAttribute('data-method') || 'POST').toUpperCase(), form.getAttribute('data-api'), collect(form));
      if (!res.ok) { showProblem(form, res); return; }
      var from = form.getAttribute('data-redirect-from');
      var to = from ? localPath((doc.getElementById(from) || {}).value) : form.getAttribute('data-redirect');
      if (to) { leaving = true; setStatus(region, null); window.location.assign(to); return; }
      if (form.hasAttribute('data-reset')) form.reset();
      setStatus(region, 'ok', [form.getAttribute('data-success')]);
      var hook = after[form.getAttribute('data-after')];
      if (hook) hook(res.body);
    } catch (e) {
      setStatus(region, 'error', [msg('network')]);
    } finally {
      form.removeAttribute('aria-busy');
      if (button && !leaving) button.disabled = false;
    }
  }

  function formatDate(s) {
    if (!s) return '';
    var d = new Date(s);
    if (isNaN(d.getTime())) return s;
    try { return d.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }); } catch (e) { return d.toLocaleString(); }
  }

  function fillTable(table, rows, emptyText) {
    var tbody = table.tBodies[0];
    tbody.textContent = '';
    if (!rows.length) {
      var tr = el('tr');
      var td = el('td', emptyText);
      td.colSpan = table.tHead.rows[0].cells.length;
      tr.appendChild(td);
      tbody.appendChild(tr);
      return;
    }
    rows.forEach(function (cells) {
      var tr = el('tr');
      cells.forEach(function (c) {
        var td = el('td');
        if (c instanceof Node) td.appendChild(c); else td.textContent = c == null ? '' : String(c);
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }

  // Personal access tokens on the account page.
  async function loadTokens() {
    var table = doc.getElementById('tokens-table');
    if (!table) return;
    var region = doc.getElementById('tokens-status');
    try {
      var res = await api('GET', table.getAttribute('data-api'));
      if (!res.ok) { setStatus(region, 'error', [(res.body || {}).title || msg('error'), (res.body || {}).detail]); return; }
      var tokens = (res.body && res.body.tokens) || [];
      fillTable(table, tokens.map(function (t) {
        var b = el('button', table.getAttribute('data-revoke') + ' ');
        b.type = 'button';
        b.className = 'revoke-token';
        b.setAttribute('data-id', t.id);
        b.appendChild(el('span', t.label, 'visually-hidden'));
        return [t.label, formatDate(t.created_at), formatDate(t.expires_at) || table.getAttribute('data-never'), b];
      }), table.getAttribute('data-empty'));
    } catch (e) {
      setStatus(region, 'error', [msg('network')]);
    }
  }

  async function revokeToken(button) {
    var table = doc.getElementById('tokens-table');
    var region = doc.getElementById('tokens-status');
    button.disabled = true;
    try {
      var res = await api('DELETE', table.getAttribute('data-api') + '/' + encodeURIComponent(button.getAttribute('data-id')));
      if (!res.ok) {
        button.disabled = false;
        setStatus(region, 'error', [(res.body || {}).title || msg('error'), (res.body || {}).detail]);
        return;
      }
      setStatus(region, 'ok', [table.getAttribute('data-revoked')]);
      var heading = doc.getElementById('tokens-title');
      if (heading) heading.focus();
      await loadTokens();
    } catch (e) {
      button.disabled = false;
      setStatus(region, 'error', [msg('network')]);
    }
  }

  // Account search on the users page.
  async function searchAccounts(form) {
    if (!form) return;
    var table = doc.getElementById(form.getAttribute('data-target'));
    var region = statusOf(form);
    var q = new URLSearchParams();
    q.set('q', form.elements.namedItem('q').value.trim());
    q.set('role', form.elements.namedItem('role').value);
    q.set('limit', '50');
    var roleSelect = form.elements.namedItem('role');
    function roleLabel(r) {
      var o = Array.prototype.find.call(roleSelect.options, function (o) { return o.value === r; });
      return o ? o.textContent : r;
    }
    form.setAttribute('aria-busy', 'true');
    try {
      var res = await api('GET', form.getAttribute('data-search') + '?' + q.toString());
      if (!res.ok) { setStatus(region, 'error', [(res.body || {}).title || msg('error'), (res.body || {}).detail]); return; }
      setStatus(region, null);
      var list = (res.body && res.body.accounts) || [];
      fillTable(table, list.map(function (a) {
        return [a.name, a.display_name, a.email, roleLabel(a.role), a.unit_name || a.unit,
          a.disabled ? table.getAttribute('data-disabled') : table.getAttribute('data-active')];
      }), table.getAttribute('data-empty'));
      var count = table.querySelector('.caption-count');
      var total = res.body && typeof res.body.total === 'number' ? res.body.total : list.length;
      if (count) count.textContent = (table.getAttribute('data-total') || '').replace('{n}', String(total));
    } catch (e) {
      setStatus(region, 'error', [msg('network')]);
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  // Elderly mode: the class is set before first paint by the inline script in <head>.
  function wireElderly() {
    var toggle = doc.getElementById('elderly-toggle');
    if (!toggle) return;
    function sync() {
      var on = root.classList.contains('elderly');
      toggle.setAttribute('aria-pressed', on ? 'true' : 'false');
      var state = toggle.querySelector('.elderly-state');
      if (state) state.textContent = toggle.getAttribute(on ? 'data-label-on' : 'data-label-off');
    }
    toggle.addEventListener('click', function () {
      var on = !root.classList.contains('elderly');
      root.classList.toggle('elderly', on);
      try { localStorage.setItem('cc-elderly', on ? '1' : '0'); } catch (e) { /* private mode */ }
      sync();
    });
    sync();
  }

  function init() {
    wireElderly();
    doc.addEventListener('submit', function (ev) {
      var form = ev.target;
      if (form.hasAttribute('data-api')) { ev.preventDefault(); submitForm(form); }
      else if (form.hasAttribute('data-search')) { ev.preventDefault(); searchAccounts(form); }
    });
    doc.addEventListener('click', function (ev) {
      var revoke = ev.target.closest('.revoke-token');
      if (revoke) { revokeToken(revoke); return; }
      if (ev.target.closest('#copy-token')) {
        var btn = doc.getElementById('copy-token');
        var input = doc.getElementById('new-token');
        input.select();
        var done = function () { setStatus(doc.getElementById('copy-status'), 'ok', [btn.getAttribute('data-copied')]); };
        if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () {});
        else if (doc.execCommand && doc.execCommand('copy')) done();
      }
    });
    loadTokens();
    searchAccounts(doc.getElementById('accounts-search'));
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
