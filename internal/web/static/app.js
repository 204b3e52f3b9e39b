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

  // api sends one request and resolves to {ok, status, body, etag}; body is the parsed JSON
  // or null. headers are extra request headers (If-Match).
  async function api(method, url, data, headers) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json, application/problem+json', 'Accept-Language': lang }
    };
    Object.keys(headers || {}).forEach(function (h) { opts.headers[h] = headers[h]; });
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
    return { ok: res.ok, status: res.status, body: body, etag: res.headers.get('ETag') || '' };
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

  // fill puts a value into a text template such as "账号 {name} 已保存。".
  function fill(template, name, value) { return (template || '').split('{' + name + '}').join(value); }

  function problemLines(res) { return [(res.body || {}).title || msg('error'), (res.body || {}).detail]; }

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

  // localPath lets a return path through only if the browser's own URL parser keeps it on
  // this origin: the parser drops tabs and newlines and reads a backslash as "/", so a pattern
  // check of the raw text cannot tell.
  function localPath(p) {
    if (typeof p !== 'string' || p.charAt(0) !== '/') return '/';
    var here = window.location.origin;
    var u;
    try { u = new URL(p, here); } catch (e) { return '/'; }
    return u.origin === here ? u.pathname + u.search + u.hash : '/';
  }

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
    'account-edited': function () {
      var name = editing.account && editing.account.name;
      closeEditor('account', false);
      var button = name && editButton(name);
      if (button) button.focus();
      after.accounts();
    },
    reload: function () { window.location.reload(); },
    'password-reset': function (body, form) {
      form.hidden = true;
      var done = doc.getElementById('reset-done');
      if (done) { done.hidden = false; var link = doc.getElementById('reset-login-link'); if (link) link.focus(); }
    }
  };

  // submitForm sends a form. req may name the method, url, data and extra headers; by
  // default they come from data-method, data-api and the form's controls. The success text
  // (data-success, "{name}" filled from data-item) goes to the region named by data-status,
  // or to the form's own status region.
  async function submitForm(form, req) {
    req = req || {};
    var button = form.querySelector('[type="submit"]');
    var region = statusOf(form);
    clearErrors(form);
    if (!repeatsMatch(form)) return;
    if (button) button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    setStatus(region, 'info', [msg('saving')]);
    var leaving = false;
    try {
      var res = await api(req.method || (form.getAttribute('data-method') || 'POST').toUpperCase(),
        req.url || form.getAttribute('data-api'), req.data || collect(form), req.headers);
      if (!res.ok) { showProblem(form, res); return; }
      var from = form.getAttribute('data-redirect-from');
      var to = from ? localPath((doc.getElementById(from) || {}).value) : form.getAttribute('data-redirect');
      if (to) { leaving = true; setStatus(region, null); window.location.assign(to); return; }
      if (form.hasAttribute('data-reset')) form.reset();
      var done = doc.getElementById(form.getAttribute('data-status') || '') || region;
      if (done !== region) setStatus(region, null);
      setStatus(done, 'ok', [fill(form.getAttribute('data-success'), 'name', form.getAttribute('data-item') || '')]);
      var hook = after[form.getAttribute('data-after')];
      if (hook) hook(res.body, form);
    } catch (e) {
      setStatus(region, 'error', [msg('network')]);
    } finally {
      form.removeAttribute('aria-busy');
      if (button && !leaving) button.disabled = false;
    }
  }

  // repeatsMatch checks the "again" fields (data-must-match names the field they repeat)
  // before anything is sent, and marks the one that differs.
  function repeatsMatch(form) {
    var bad = Array.prototype.filter.call(form.querySelectorAll('[data-must-match]'), function (input) {
      var other = doc.getElementById(input.getAttribute('data-must-match'));
      return other && other.value !== input.value;
    });
    if (!bad.length) return true;
    var text = bad[0].getAttribute('data-mismatch');
    showProblem(form, { body: { title: text, errors: [{ field: bad[0].id, message: text }] } });
    return false;
  }

  // fillFromHash puts a secret that came in the address's #fragment (which never reaches a
  // server or a Referer) into its hidden field, then takes it out of the address bar.
  function fillFromHash() {
    var input = doc.querySelector('input[data-from-hash]');
    if (!input) return;
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    var value = params.get(input.getAttribute('data-from-hash')) || '';
    input.value = value;
    if (value && window.history.replaceState) window.history.replaceState(null, '', window.location.pathname + window.location.search);
    var missing = doc.getElementById(input.getAttribute('data-missing') || '');
    if (missing) missing.hidden = value !== '';
    if (!value && input.form) input.form.hidden = true;
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
      // The table is rebuilt: keep the keyboard focus on the same account's Edit button.
      var active = doc.activeElement;
      var focused = active && table.contains(active) && active.classList.contains('edit-account') ? active.getAttribute('data-name') : null;
      accountRows = {};
      fillTable(table, list.map(function (a) {
        accountRows[a.name] = a;
        var b = el('button', table.getAttribute('data-edit'), 'edit-account');
        b.type = 'button';
        b.setAttribute('data-name', a.name);
        b.setAttribute('aria-label', fill(table.getAttribute('data-edit-label'), 'name', a.name));
        b.setAttribute('aria-controls', 'edit-account-panel');
        return [a.name, a.display_name, a.email, roleLabel(a.role), a.unit_name || a.unit,
          a.disabled ? table.getAttribute('data-disabled') : table.getAttribute('data-active'), b];
      }), table.getAttribute('data-empty'));
      var again = focused && editButton(focused);
      if (again) again.focus();
      var count = table.querySelector('.caption-count');
      var total = res.body && typeof res.body.total === 'number' ? res.body.total : list.length;
      if (count) count.textContent = (table.getAttribute('data-total') || '').replace('{n}', String(total));
    } catch (e) {
      setStatus(region, 'error', [msg('network')]);
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  // Editors: an Edit (Rename) button fills a form in a hidden panel and shows it, with the
  // focus on its first field; Cancel or Escape hides it and takes the focus back.
  var accountRows = {}; // name → account of the last search
  var editing = { account: null, unit: null }; // the open editor: {name|id, button, ...}
  var editors = {
    account: { panel: 'edit-account-panel', form: 'edit-account-form', title: 'edit-account-title', first: 'edit-display-name' },
    unit: { panel: 'rename-unit-panel', form: 'rename-unit-form', title: 'rename-unit-title', first: 'rename-name-zh' }
  };

  function editButton(name) {
    var table = doc.getElementById('accounts-table');
    if (!table) return null;
    return Array.prototype.find.call(table.querySelectorAll('.edit-account'), function (b) {
      return b.getAttribute('data-name') === name;
    }) || null;
  }

  function openEditor(kind, item, state) {
    var ed = editors[kind];
    var panel = doc.getElementById(ed.panel);
    var form = doc.getElementById(ed.form);
    clearErrors(form);
    setStatus(statusOf(form), null);
    form.setAttribute('data-item', item);
    doc.getElementById(ed.title).textContent = fill(panel.getAttribute('data-heading'), kind === 'unit' ? 'id' : 'name', item);
    editing[kind] = state;
    panel.hidden = false;
    doc.getElementById(ed.first).focus();
  }

  // closeEditor hides the panel; with refocus the focus goes back to the opening button.
  function closeEditor(kind, refocus) {
    var ed = editors[kind];
    var panel = doc.getElementById(ed.panel);
    var form = doc.getElementById(ed.form);
    var state = editing[kind];
    if (!panel || panel.hidden) return;
    editing[kind] = null;
    clearErrors(form);
    setStatus(statusOf(form), null);
    Array.prototype.forEach.call(form.querySelectorAll('input[type="password"]'), function (p) { p.value = ''; });
    panel.hidden = true;
    if (!refocus || !state) return;
    var button = kind === 'account' ? editButton(state.name) : state.button;
    if (!button || !button.isConnected) button = kind === 'account' ? doc.querySelector('#accounts-table') : doc.getElementById('unit-tree');
    if (button) {
      if (!button.matches('button')) button = button.closest('[tabindex]') || button;
      button.focus();
    }
  }

  // selectValue selects value, adding an option for it when the list lacks it (a unit
  // created after the page was loaded), so that an untouched field reads as unchanged.
  function selectValue(select, value, label) {
    Array.prototype.forEach.call(select.querySelectorAll('option[data-extra]'), function (o) { o.remove(); });
    select.value = value;
    if (select.value === value) return;
    var o = el('option', label || value);
    o.value = value;
    o.setAttribute('data-extra', '');
    select.appendChild(o);
    select.value = value;
  }

  function accountValues(form) {
    return {
      display_name: form.elements.namedItem('display_name').value,
      role: form.elements.namedItem('role').value,
      unit: form.elements.namedItem('unit').value,
      disabled: form.elements.namedItem('disabled').checked
    };
  }

  // openAccount reads the account itself (the search index may lag a write) with its ETag,
  // so that the change is sent with If-Match and only what the admin changed is sent.
  async function openAccount(button) {
    var form = doc.getElementById('edit-account-form');
    if (!form || button.getAttribute('aria-busy') === 'true') return;
    var name = button.getAttribute('data-name');
    var row = accountRows[name] || {};
    var region = doc.getElementById('accounts-status');
    button.setAttribute('aria-busy', 'true');
    try {
      var res = await api('GET', form.getAttribute('data-api-base') + '/' + encodeURIComponent(name));
      if (!res.ok || !res.body) { setStatus(region, 'error', problemLines(res)); return; }
      var a = res.body;
      setStatus(region, null);
      form.elements.namedItem('display_name').value = a.display_name || '';
      selectValue(form.elements.namedItem('role'), a.role || '', a.role);
      selectValue(form.elements.namedItem('unit'), a.unit || '', row.unit === a.unit && row.unit_name || a.unit);
      form.elements.namedItem('disabled').checked = !!a.disabled;
      form.elements.namedItem('password').value = '';
      openEditor('account', name, { name: name, etag: res.etag, original: accountValues(form) });
    } catch (e) {
      setStatus(region, 'error', [msg('network')]);
    } finally {
      button.removeAttribute('aria-busy');
    }
  }

  function submitAccount(form) {
    var state = editing.account;
    if (!state) return;
    var now = accountValues(form);
    var data = {};
    Object.keys(now).forEach(function (k) { if (now[k] !== state.original[k]) data[k] = now[k]; });
    var password = form.elements.namedItem('password').value;
    if (password) data.password = password;
    if (!Object.keys(data).length) {
      clearErrors(form);
      setStatus(statusOf(form), 'info', [form.getAttribute('data-unchanged')]);
      return;
    }
    submitForm(form, {
      method: 'PATCH',
      url: form.getAttribute('data-api-base') + '/' + encodeURIComponent(state.name),
      data: data,
      headers: state.etag ? { 'If-Match': state.etag } : undefined
    });
  }

  function openUnit(button) {
    var form = doc.getElementById('rename-unit-form');
    if (!form) return;
    var id = button.getAttribute('data-id');
    form.elements.namedItem('name_zh').value = button.getAttribute('data-name-zh') || '';
    form.elements.namedItem('name_en').value = button.getAttribute('data-name-en') || '';
    openEditor('unit', id, { id: id, button: button });
  }

  function submitUnit(form) {
    var state = editing.unit;
    if (!state) return;
    submitForm(form, { method: 'PATCH', url: form.getAttribute('data-api-base') + '/' + encodeURIComponent(state.id) });
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

  // Disclosure buttons (the phone menu, the filter drawer) open and close the elements
  // their aria-controls names; Escape inside them closes them and returns to the button.
  // CSS folds those elements on phones only, and only once this script runs.
  function wireDisclosures() {
    Array.prototype.forEach.call(doc.querySelectorAll('button.disclosure-toggle[aria-controls]'), function (button) {
      var targets = button.getAttribute('aria-controls').split(/\s+/).map(function (id) { return doc.getElementById(id); }).filter(Boolean);
      function set(open) {
        button.setAttribute('aria-expanded', open ? 'true' : 'false');
        targets.forEach(function (t) { t.classList.toggle('is-open', open); });
      }
      button.addEventListener('click', function () { set(button.getAttribute('aria-expanded') !== 'true'); });
      doc.addEventListener('keydown', function (ev) {
        if (ev.key !== 'Escape' || button.getAttribute('aria-expanded') !== 'true') return;
        var inside = ev.target === button || targets.some(function (t) { return t.contains(ev.target); });
        if (!inside || button.offsetParent === null) return; // a wide screen shows them anyway
        set(false);
        button.focus();
      });
    });
  }

  function init() {
    wireElderly();
    wireDisclosures();
    doc.addEventListener('submit', function (ev) {
      var form = ev.target;
      if (form.id === 'edit-account-form') { ev.preventDefault(); submitAccount(form); }
      else if (form.id === 'rename-unit-form') { ev.preventDefault(); submitUnit(form); }
      else if (form.hasAttribute('data-api')) { ev.preventDefault(); submitForm(form); }
      else if (form.hasAttribute('data-search')) { ev.preventDefault(); searchAccounts(form); }
    });
    doc.addEventListener('click', function (ev) {
      var revoke = ev.target.closest('.revoke-token');
      if (revoke) { revokeToken(revoke); return; }
      var edit = ev.target.closest('.edit-account');
      if (edit) { openAccount(edit); return; }
      var rename = ev.target.closest('.rename-unit');
      if (rename) { openUnit(rename); return; }
      if (ev.target.closest('#edit-account-cancel')) { closeEditor('account', true); return; }
      if (ev.target.closest('#rename-unit-cancel')) { closeEditor('unit', true); return; }
      if (ev.target.closest('[data-print]')) { window.print(); return; }
      if (ev.target.closest('#copy-token')) {
        var btn = doc.getElementById('copy-token');
        var input = doc.getElementById('new-token');
        input.select();
        var done = function () { setStatus(doc.getElementById('copy-status'), 'ok', [btn.getAttribute('data-copied')]); };
        if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () {});
        else if (doc.execCommand && doc.execCommand('copy')) done();
      }
    });
    doc.addEventListener('keydown', function (ev) {
      if (ev.key !== 'Escape') return;
      Object.keys(editors).forEach(function (kind) {
        var panel = doc.getElementById(editors[kind].panel);
        if (panel && !panel.hidden && panel.contains(ev.target)) { ev.preventDefault(); closeEditor(kind, true); }
      });
    });
    fillFromHash();
    loadTokens();
    searchAccounts(doc.getElementById('accounts-search'));
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
