// rolestack console: a small single-page app. Every action goes through
// POST /console/api/{product}/{Action}, which runs the same catalogued API action as the SDKs,
// with the same authorization. DOM is built with createElement/textContent only (no innerHTML
// with data), so names and documents can never become markup.
'use strict';

(() => {
  // ---------------------------------------------------------------------------------------
  // basics
  const state = { csrf: '', identity: null, region: localStorage.getItem('rolestack.region') || 'cn-hangzhou', regions: null };
  const ECS_SERVICE = 'ecs.aliyuncs.com';
  const PAGE_SIZE = 10;

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  let uid = 0;
  const nextId = (p) => `${p}-${++uid}`;

  class ApiError extends Error {
    constructor(body, status) {
      super(body.Message || `HTTP ${status}`);
      this.code = body.Code || `HTTP${status}`;
      this.status = status;
      this.requestId = body.RequestId || '';
    }
  }

  // Empty values are left out (an optional field left blank), except the `keepEmpty` ones: a
  // field whose blank value means "none" (clearing a setting).
  async function api(product, action, params, { keepEmpty = [] } = {}) {
    const clean = {};
    for (const [k, v] of Object.entries(params || {})) {
      if (v !== undefined && v !== null && (v !== '' || keepEmpty.includes(k))) clean[k] = v;
    }
    const res = await fetch(`/console/api/${product}/${action}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.csrf },
      body: JSON.stringify(clean),
    });
    let body = {};
    try { body = await res.json(); } catch (_) { body = { Code: `HTTP${res.status}`, Message: res.statusText }; }
    if (res.status === 401 && body.Code === 'ConsoleSessionExpired') {
      location.href = '/console/signin';
      throw new ApiError(body, res.status);
    }
    if (!res.ok) throw new ApiError(body, res.status);
    return body;
  }

  // Follows Marker/IsTruncated to the end (RAM lists: pages of up to 1000, ListGroups up to 100).
  async function listAll(action, outer, inner, params) {
    const out = [];
    const max = action === 'ListGroups' ? 100 : 1000;
    let marker;
    for (let i = 0; i < 1000; i++) {
      const body = await api('ram', action, { ...params, MaxItems: max, Marker: marker });
      out.push(...((body[outer] || {})[inner] || []));
      if (!body.IsTruncated) break;
      marker = body.Marker;
    }
    return out;
  }

  // Plain words for the codes a person meets most; the exact code and message always follow.
  const EXPLAIN = {
    NoPermission: 'You do not have permission to do this. An administrator must grant it to you with a RAM policy.',
    'Forbidden.RAM': 'You do not have permission to do this in ECS. An administrator must grant it to you with a RAM policy.',
    'InvalidUser.PassRoleForbidden': 'You may not pass this RAM role to ECS: you need ram:PassRole on the role.',
    MalformedPolicyDocument: 'The policy document is not valid.',
    'InvalidNetworkType.MismatchRamRole': 'A RAM role can only be bound to instances in a VPC; this is a classic network instance.',
    'InvalidRamRole.NotEcsRole': 'This RAM role does not trust Elastic Compute Service (its trust policy must name ecs.aliyuncs.com).',
    InvalidCsrfToken: 'The request was refused by CSRF protection. Reload the page.',
  };

  function errorBox(err, id) {
    const code = err.code || 'Error';
    const explain = EXPLAIN[code] || (code.startsWith('EntityNotExist') ? 'It does not exist (any more).' :
      code.startsWith('EntityAlreadyExists') ? 'It exists already.' :
      code.startsWith('DeleteConflict') ? 'It cannot be deleted while other things still refer to it.' : null);
    return h('div', { class: 'alert error', role: 'alert', id, tabindex: '-1' },
      explain ? h('div', { text: explain }) : null,
      h('div', {}, h('span', { class: 'code', text: code }), ': ', err.message || String(err)),
      err.requestId ? h('span', { class: 'rid', text: `RequestId: ${err.requestId}` }) : null);
  }

  function toast(text) {
    const t = h('div', { class: 'toast', text });
    document.getElementById('toasts').append(t);
    setTimeout(() => t.remove(), 5000);
  }

  function fmtDate(s) { return s ? s.replace('T', ' ').replace('Z', ' UTC') : ''; }
  function prettyJson(text) { try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; } }

  // Whether a trust policy lets Elastic Compute Service assume the role.
  function trustsEcs(doc) {
    let p;
    try { p = JSON.parse(doc); } catch (_) { return false; }
    const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    return list(p.Statement).some((s) => s && s.Effect === 'Allow'
      && list(s.Action).some((a) => /^(sts:assumerole|sts:\*|\*)$/i.test(String(a)))
      && s.Principal && list(s.Principal.Service).some((x) => String(x).toLowerCase() === ECS_SERVICE));
  }

  // ---------------------------------------------------------------------------------------
  // layout helpers: breadcrumbs, page heading, tables, tabs, dialogs, menus

  function setCrumbs(items) {
    const ol = document.getElementById('crumbs');
    ol.replaceChildren(...items.map((it, i) => h('li', {},
      i === items.length - 1 ? h('span', { 'aria-current': 'page', text: it[0] }) : (it[1] ? h('a', { href: it[1], text: it[0] }) : it[0]))));
    document.title = `${items[items.length - 1][0]} · rolestack console`;
  }

  function view(...children) {
    const v = document.getElementById('view');
    v.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
    return v;
  }

  function loading() { return h('p', { class: 'muted', text: 'Loading…' }); }

  // A table with client-side search and paging. columns: [{title, render(row) -> Node|string}]
  function dataTable({ columns, rows, search, empty, label }) {
    const wrap = h('div', { class: 'table-wrap' });
    let page = 0;
    let filter = '';
    const searchInput = search ? h('input', { type: 'search', id: nextId('search'), placeholder: search.placeholder }) : null;
    const tbody = h('tbody');
    const pager = h('div', { class: 'pager' });
    function render() {
      const f = filter.trim().toLowerCase();
      const shown = f ? rows.filter((r) => search.keys(r).some((k) => String(k || '').toLowerCase().includes(f))) : rows;
      const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
      if (page >= pages) page = pages - 1;
      const slice = shown.slice(page * PAGE_SIZE, page * PAGE_SIZE + PAGE_SIZE);
      tbody.replaceChildren(...(slice.length ? slice.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.class }, c.render(r)))))
        : [h('tr', {}, h('td', { colspan: columns.length, class: 'empty', text: f ? 'No match.' : (empty || 'No items.') }))]));
      const prev = h('button', { type: 'button', disabled: page === 0, onclick: () => { page--; render(); } }, 'Previous');
      const next = h('button', { type: 'button', disabled: page >= pages - 1, onclick: () => { page++; render(); } }, 'Next');
      pager.replaceChildren(h('span', { text: `${shown.length} item(s) · page ${page + 1} of ${pages}` }), prev, next);
    }
    if (searchInput) searchInput.addEventListener('input', () => { filter = searchInput.value; page = 0; render(); });
    render();
    const table = h('table', { 'aria-label': label }, h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c.title })))), tbody);
    wrap.append(table, pager);
    return { table: wrap, search: searchInput ? h('div', {}, h('label', { for: searchInput.id, text: search.label }), searchInput) : null };
  }

  // Accessible tabs; tabs: [{id, title, render(panel)}]
  function tabs(list, selected, onSelect) {
    const tablist = h('div', { role: 'tablist' });
    const panel = h('div', { role: 'tabpanel', tabindex: '0' });
    const buttons = list.map((t) => h('button', {
      type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': 'tabpanel', 'aria-selected': String(t.id === selected), tabindex: t.id === selected ? '0' : '-1',
      onclick: () => select(t.id, true),
    }, t.title));
    panel.id = 'tabpanel';
    function select(id, focus) {
      buttons.forEach((b, i) => { const on = list[i].id === id; b.setAttribute('aria-selected', String(on)); b.tabIndex = on ? 0 : -1; if (on && focus) b.focus(); });
      panel.setAttribute('aria-labelledby', `tab-${id}`);
      panel.replaceChildren();
      list.find((t) => t.id === id).render(panel);
      if (onSelect) onSelect(id);
    }
    tablist.addEventListener('keydown', (e) => {
      const i = buttons.indexOf(document.activeElement);
      if (i < 0) return;
      let j = null;
      if (e.key === 'ArrowRight') j = (i + 1) % buttons.length;
      if (e.key === 'ArrowLeft') j = (i - 1 + buttons.length) % buttons.length;
      if (j !== null) { e.preventDefault(); select(list[j].id, true); }
    });
    tablist.append(...buttons);
    select(selected, false);
    return [tablist, panel];
  }

  // A modal dialog (native <dialog>: focus is trapped, Escape closes); focus returns to the opener.
  function openDialog({ title, panel, build }) {
    const opener = document.activeElement;
    const titleId = nextId('dlg');
    const dlg = h('dialog', { class: panel ? 'panel' : '', 'aria-labelledby': titleId });
    const close = () => { dlg.close(); };
    dlg.addEventListener('close', () => { dlg.remove(); if (opener && opener.isConnected) opener.focus(); });
    const head = h('div', { class: 'dlg-head' }, h('h2', { id: titleId, text: title }), h('button', { type: 'button', class: 'link', 'aria-label': 'Close dialog', onclick: close }, '✕'));
    const form = h('form', { method: 'dialog', novalidate: true });
    form.addEventListener('submit', (e) => e.preventDefault());
    dlg.append(form);
    document.body.append(dlg);
    build({ form, head, close, dlg });
    dlg.showModal();
    const first = dlg.querySelector('[autofocus]') || dlg.querySelector('input:not([type=hidden]):not([disabled]), select, textarea, button.primary');
    if (first) first.focus();
    return dlg;
  }
  function dlgParts(form, head, body, foot) {
    form.replaceChildren(head, h('div', { class: 'dlg-body' }, body), h('div', { class: 'dlg-foot' }, foot));
  }

  function confirmDialog({ title, text, okText, danger, run }) {
    openDialog({
      title,
      build: ({ form, head, close }) => {
        const err = h('div');
        const ok = h('button', { type: 'submit', class: danger ? 'primary' : 'primary' }, okText || 'OK');
        form.addEventListener('submit', async () => {
          ok.disabled = true;
          err.replaceChildren();
          try { await run(); close(); } catch (e) { err.replaceChildren(errorBox(e)); err.firstChild.focus(); ok.disabled = false; }
        });
        dlgParts(form, head, [h('p', { text }), err], [ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
      },
    });
  }

  // A menu button with nested menus; items: [{label, run} | {label, items}]
  function menuButton(label, items, accessibleName) {
    const wrap = h('div', { class: 'menu-wrap' });
    const btn = h('button', { type: 'button', class: 'link', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': accessibleName || label }, label, ' ▾');
    let open = null;
    function buildMenu(list, parentItem) {
      const ul = h('ul', { role: 'menu', 'aria-label': parentItem ? parentItem.textContent.replace('›', '') : label });
      const entries = list.map((it) => {
        const li = h('li', { role: 'none' });
        const item = h('button', { type: 'button', role: 'menuitem', tabindex: '-1' }, it.label);
        li.append(item);
        if (it.items) {
          item.setAttribute('aria-haspopup', 'menu');
          item.setAttribute('aria-expanded', 'false');
          const openSub = () => {
            if (li.querySelector('[role=menu]')) return li.querySelector('[role=menu]');
            ul.querySelectorAll(':scope > li > [role=menu]').forEach((m) => m.remove());
            const sub = buildMenu(it.items, item);
            li.append(sub);
            item.setAttribute('aria-expanded', 'true');
            return sub;
          };
          item.addEventListener('click', () => { const sub = openSub(); sub.querySelector('[role=menuitem]').focus(); });
          item.addEventListener('mouseenter', openSub);
          item.addEventListener('keydown', (e) => { if (e.key === 'ArrowRight') { e.preventDefault(); openSub().querySelector('[role=menuitem]').focus(); } });
        } else {
          item.addEventListener('click', () => { closeMenu(false); it.run(); });
        }
        return item;
      });
      ul.addEventListener('keydown', (e) => {
        const items = [...ul.querySelectorAll(':scope > li > [role=menuitem]')];
        const i = items.indexOf(document.activeElement);
        if (e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length].focus(); }
        else if (e.key === 'ArrowUp') { e.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
        else if (e.key === 'Escape' || (e.key === 'ArrowLeft' && parentItem)) {
          e.preventDefault(); e.stopPropagation();
          if (parentItem) { ul.remove(); parentItem.setAttribute('aria-expanded', 'false'); parentItem.focus(); } else closeMenu(true);
        } else if (e.key === 'Tab') closeMenu(false);
      });
      ul.append(...entries.map((e) => e.parentNode));
      return ul;
    }
    function closeMenu(focusButton) {
      if (!open) return;
      open.remove(); open = null;
      btn.setAttribute('aria-expanded', 'false');
      document.removeEventListener('click', outside, true);
      if (focusButton) btn.focus();
    }
    function outside(e) { if (!wrap.contains(e.target)) closeMenu(false); }
    btn.addEventListener('click', () => {
      if (open) { closeMenu(false); return; }
      open = buildMenu(items);
      wrap.append(open);
      btn.setAttribute('aria-expanded', 'true');
      open.querySelector('[role=menuitem]').focus();
      document.addEventListener('click', outside, true);
    });
    btn.addEventListener('keydown', (e) => { if (e.key === 'ArrowDown' && !open) { e.preventDefault(); btn.click(); } });
    wrap.append(btn);
    return wrap;
  }

  function field(labelText, control, hint, required) {
    control.id = control.id || nextId('f');
    const hintEl = hint ? h('p', { class: 'hint', id: `${control.id}-hint`, text: hint }) : null;
    if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
    if (required) control.required = true;
    return [h('label', { for: control.id, class: required ? 'required' : '' }, labelText), control, hintEl];
  }

  function radioGroup(legend, name, options, value, onChange) {
    const fs = h('fieldset', {}, h('legend', { text: legend }));
    for (const o of options) {
      const input = h('input', { type: 'radio', name, value: o.value, checked: o.value === value, disabled: o.disabled, id: nextId('r') });
      input.addEventListener('change', () => onChange && onChange(o.value));
      fs.append(h('label', { class: 'choice', for: input.id }, input, h('span', {}, o.label, o.help ? h('small', { text: o.help }) : null)));
    }
    return fs;
  }
  const radioValue = (root, name) => { const r = root.querySelector(`input[name="${name}"]:checked`); return r ? r.value : null; };

  // How many GetRole calls ecsRoles has in flight at once: one at a time took seconds with a
  // thousand roles; all at once would queue a thousand requests on the server's threads.
  const TRUST_CHECKS_AT_ONCE = 8;

  // The roles that trust ECS, in ListRoles' order. ListRoles leaves the trust policy out, so each
  // role is read with GetRole, a bounded number at a time.
  async function ecsRoles() {
    const roles = await listAll('ListRoles', 'Roles', 'Role');
    const trusts = new Array(roles.length).fill(false);
    let next = 0;
    async function worker() {
      while (next < roles.length) {
        const i = next++;
        try {
          const g = await api('ram', 'GetRole', { RoleName: roles[i].RoleName });
          trusts[i] = trustsEcs(g.Role.AssumeRolePolicyDocument);
        } catch (_) { /* not readable: not offered */ }
      }
    }
    await Promise.all(Array.from({ length: Math.min(TRUST_CHECKS_AT_ONCE, roles.length) }, worker));
    return roles.filter((_, i) => trusts[i]);
  }

  // ---------------------------------------------------------------------------------------
  // RAM > RAM Roles

  function trustDocument(kind, value) {
    const principal = kind === 'service' ? { Service: [value] } : { RAM: [`acs:ram::${value}:root`] };
    return JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: principal }], Version: '1' }, null, 2);
  }

  const TRUSTED_SERVICES = [
    ['Elastic Compute Service', 'ecs.aliyuncs.com'],
    ['Function Compute', 'fc.aliyuncs.com'],
    ['Object Storage Service', 'oss.aliyuncs.com'],
    ['Resource Orchestration Service', 'ros.aliyuncs.com'],
  ];

  function createRoleWizard(onCreated) {
    openDialog({
      title: 'Create RAM Role',
      panel: true,
      build: ({ form, head, close }) => {
        const data = { entity: 'service', name: '', note: '', service: 'ecs.aliyuncs.com', account: 'current', otherAccount: '' };
        const stepNames = ['Select Trusted Entity', 'Configure Role', 'Finish'];
        function steps(n) {
          return h('ol', { class: 'steps', 'aria-label': 'Steps' }, stepNames.map((s, i) => h('li', { class: i < n ? 'done' : '', 'aria-current': i === n ? 'step' : null, text: s })));
        }
        function step1() {
          const body = [steps(0), radioGroup('Trusted entity type', 'entity', [
            { value: 'account', label: 'Alibaba Cloud Account', help: 'RAM users of a trusted account (this one or another) may assume the role.' },
            { value: 'service', label: 'Alibaba Cloud Service', help: 'A cloud service may assume the role; choose this to bind the role to ECS instances.' },
          ], data.entity)];
          const next = h('button', { type: 'submit', class: 'primary' }, 'Next');
          form.onsubmit = () => { data.entity = radioValue(form, 'entity'); step2(); };
          dlgParts(form, head, body, [next, h('button', { type: 'button', onclick: close }, 'Cancel')]);
          form.querySelector('input[name=entity]:checked').focus();
        }
        function step2() {
          const err = h('div');
          // (no maxlength: a browser would cut a longer pasted name and create the role under the
          // cut name; RAM refuses a name that is too long, and its error is shown)
          const name = h('input', { type: 'text', name: 'RoleName', autocomplete: 'off', value: data.name });
          const note = h('textarea', { name: 'Note', maxlength: '1024' }, data.note);
          const body = [steps(1)];
          let trusted;
          if (data.entity === 'service') {
            body.push(radioGroup('Role Type', 'roletype', [
              { value: 'normal', label: 'Normal Service Role' },
              { value: 'linked', label: 'Service Linked Role', help: 'Not available in rolestack.', disabled: true },
            ], 'normal'));
          }
          body.push(...field('RAM Role Name', name, 'Up to 64 characters: letters, digits, periods (.) and hyphens (-).', true));
          body.push(...field('Note', note, 'Up to 1,024 characters.'));
          if (data.entity === 'service') {
            trusted = h('select', { name: 'TrustedService' }, TRUSTED_SERVICES.map(([label, svc]) => h('option', { value: svc, selected: svc === data.service }, label)));
            body.push(...field('Select Trusted Service', trusted, null, true));
          } else {
            const acct = state.identity.AccountId;
            const other = h('input', { type: 'text', name: 'OtherAccount', value: data.otherAccount, 'aria-label': 'Other Alibaba Cloud account ID' });
            body.push(radioGroup('Select Trusted Alibaba Cloud Account', 'acct', [
              { value: 'current', label: `Current Alibaba Cloud Account (${acct})` },
              { value: 'other', label: 'Other Alibaba Cloud Account' },
            ], data.account), other);
            trusted = { get value() { return radioValue(form, 'acct') === 'other' ? other.value.trim() : acct; } };
          }
          body.push(err);
          const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
          const prev = h('button', { type: 'button', onclick: () => { data.name = name.value; data.note = note.value; step1(); } }, 'Previous');
          form.onsubmit = async () => {
            data.name = name.value.trim();
            data.note = note.value;
            err.replaceChildren();
            if (!data.name) { err.replaceChildren(errorBox({ code: 'MissingRoleName', message: 'Enter the RAM Role Name.' })); name.focus(); return; }
            ok.disabled = true;
            try {
              const doc = trustDocument(data.entity, trusted.value);
              await api('ram', 'CreateRole', { RoleName: data.name, Description: data.note, AssumeRolePolicyDocument: doc });
              step3();
              if (onCreated) onCreated(data.name);
            } catch (e) {
              ok.disabled = false;
              err.replaceChildren(errorBox(e));
              err.firstChild.focus();
            }
          };
          dlgParts(form, head, body, [prev, ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
          name.focus();
        }
        function step3() {
          const body = [steps(2), h('div', { class: 'alert success', role: 'status' }, `The RAM role ${data.name} has been created.`),
            h('p', { class: 'muted', text: 'Next, grant it permissions: open the role and use Input and Attach on its Permissions tab.' })];
          const attach = h('button', { type: 'button', class: 'primary', onclick: () => { close(); location.hash = `#/ram/roles/${encodeURIComponent(data.name)}`; } }, 'Input and Attach');
          form.onsubmit = () => close();
          dlgParts(form, head, body, [attach, h('button', { type: 'submit' }, 'Close')]);
          attach.focus();
        }
        step1();
      },
    });
  }

  async function rolesPage() {
    setCrumbs([['RAM', '#/ram/roles'], ['RAM Roles']]);
    const holder = h('div', {}, loading());
    const create = h('button', { type: 'button', class: 'primary', onclick: () => createRoleWizard(() => load()) }, 'Create RAM Role');
    view(h('h1', { text: 'RAM Roles' }),
      h('p', { class: 'page-desc', text: 'A RAM role is an identity that trusted entities — RAM users, or cloud services such as Elastic Compute Service — assume to get temporary credentials. A role bound to an ECS instance gives programs on it credentials through the instance metadata service.' }),
      holder);
    async function load() {
      let roles;
      try { roles = await listAll('ListRoles', 'Roles', 'Role'); } catch (e) { holder.replaceChildren(h('div', { class: 'toolbar' }, create), errorBox(e)); return; }
      const t = dataTable({
        label: 'RAM roles',
        rows: roles,
        empty: 'No RAM roles yet.',
        search: { label: 'Search by role name', placeholder: 'RAM Role Name', keys: (r) => [r.RoleName, r.Description] },
        columns: [
          { title: 'RAM Role Name', render: (r) => h('a', { href: `#/ram/roles/${encodeURIComponent(r.RoleName)}`, text: r.RoleName }) },
          { title: 'Note', render: (r) => r.Description || '' },
          { title: 'Created', render: (r) => fmtDate(r.CreateDate) },
          { title: 'Actions', class: 'actions-cell', render: (r) => [
            h('a', { href: `#/ram/roles/${encodeURIComponent(r.RoleName)}`, text: 'Add Permissions' }), ' ',
            h('button', { type: 'button', class: 'link danger', 'aria-label': `Delete role ${r.RoleName}`, onclick: () => confirmDialog({
              title: 'Delete RAM Role', text: `Delete the RAM role ${r.RoleName}? Its sessions end at once.`, okText: 'Delete',
              run: async () => { await api('ram', 'DeleteRole', { RoleName: r.RoleName }); toast(`Deleted ${r.RoleName}`); load(); },
            }) }, 'Delete'),
          ] },
        ],
      });
      holder.replaceChildren(h('div', { class: 'toolbar' }, create, h('div', { class: 'grow' }), t.search), t.table);
    }
    load();
  }

  // Permissions of a role or user (Input and Attach / Revoke).
  function permissionsPanel(panel, kind, name) {
    const holder = h('div', {}, loading());
    const attachBtn = h('button', { type: 'button', class: 'primary', onclick: () => inputAndAttach(kind, name, load) }, 'Input and Attach');
    panel.append(h('div', { class: 'toolbar' }, attachBtn), holder);
    async function load() {
      let list;
      try { list = (await api('ram', `ListPoliciesFor${kind}`, { [`${kind}Name`]: name })).Policies.Policy; } catch (e) { holder.replaceChildren(errorBox(e)); return; }
      const t = dataTable({
        label: 'Attached policies', rows: list, empty: 'No policy is attached.',
        columns: [
          { title: 'Policy', render: (p) => h('a', { href: `#/ram/policies/${p.PolicyType}/${encodeURIComponent(p.PolicyName)}`, text: p.PolicyName }) },
          { title: 'Policy Type', render: (p) => h('span', { class: p.PolicyType === 'System' ? 'tag sys' : 'tag', text: `${p.PolicyType} Policy` }) },
          { title: 'Note', render: (p) => p.Description || '' },
          { title: 'Attached', render: (p) => fmtDate(p.AttachDate) },
          { title: 'Actions', render: (p) => h('button', { type: 'button', class: 'link danger', 'aria-label': `Revoke ${p.PolicyName}`, onclick: () => confirmDialog({
            title: 'Revoke Permission', text: `Detach the ${p.PolicyType.toLowerCase()} policy ${p.PolicyName} from ${name}?`, okText: 'Revoke',
            run: async () => { await api('ram', `DetachPolicyFrom${kind}`, { PolicyType: p.PolicyType, PolicyName: p.PolicyName, [`${kind}Name`]: name }); toast(`Detached ${p.PolicyName}`); load(); },
          }) }, 'Revoke Permission') },
        ],
      });
      holder.replaceChildren(t.table);
    }
    load();
  }

  function inputAndAttach(kind, name, after) {
    openDialog({
      title: 'Input and Attach',
      build: ({ form, head, close }) => {
        const err = h('div');
        const listId = nextId('policies');
        const datalist = h('datalist', { id: listId });
        const input = h('input', { type: 'text', name: 'PolicyName', list: listId, autocomplete: 'off' });
        const fill = async (type) => {
          datalist.replaceChildren();
          try {
            const ps = await listAll('ListPolicies', 'Policies', 'Policy', { PolicyType: type });
            datalist.replaceChildren(...ps.map((p) => h('option', { value: p.PolicyName }, p.Description || p.PolicyName)));
          } catch (_) { /* the name can still be typed */ }
        };
        const types = radioGroup('Policy Type', 'ptype', [{ value: 'System', label: 'System Policy' }, { value: 'Custom', label: 'Custom Policy' }], 'System', fill);
        fill('System');
        const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
        const body = [h('p', { class: 'muted' }, `Principal: ${name} (${kind === 'Role' ? 'RAM role' : 'RAM user'})`), types,
          ...field('Policy Name', input, 'Enter the exact name of the policy, e.g. AliyunOSSReadOnlyAccess.', true), datalist, err];
        form.onsubmit = async () => {
          err.replaceChildren();
          const policy = input.value.trim();
          if (!policy) { err.replaceChildren(errorBox({ code: 'MissingPolicyName', message: 'Enter the policy name.' })); input.focus(); return; }
          ok.disabled = true;
          try {
            await api('ram', `AttachPolicyTo${kind}`, { PolicyType: radioValue(form, 'ptype'), PolicyName: policy, [`${kind}Name`]: name });
            const closeBtn = h('button', { type: 'submit', class: 'primary' }, 'Close');
            form.onsubmit = () => close();
            dlgParts(form, head, [h('div', { class: 'alert success', role: 'status' }, `Authorized: ${policy} is attached to ${name}.`)], [closeBtn]);
            closeBtn.focus();
            if (after) after();
          } catch (e) {
            ok.disabled = false;
            err.replaceChildren(errorBox(e));
            err.firstChild.focus();
          }
        };
        dlgParts(form, head, body, [ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
      },
    });
  }

  function trustPanel(panel, role, reload) {
    const err = h('div', { id: 'trust-error' });
    const pre = h('pre', { class: 'doc', 'aria-label': 'Trust policy document', text: prettyJson(role.AssumeRolePolicyDocument) });
    const edit = h('button', { type: 'button', class: 'primary', onclick: () => editor() }, 'Edit Trust Policy');
    panel.append(h('div', { class: 'toolbar' }, edit), pre);
    function editor() {
      const ta = h('textarea', { class: 'code', spellcheck: 'false', name: 'TrustPolicy', 'aria-describedby': 'trust-error' }, prettyJson(role.AssumeRolePolicyDocument));
      const ok = h('button', { type: 'button', class: 'primary' }, 'OK');
      const cancel = h('button', { type: 'button', onclick: () => { panel.replaceChildren(); trustPanel(panel, role, reload); } }, 'Cancel');
      ok.addEventListener('click', async () => {
        err.replaceChildren();
        ok.disabled = true;
        try {
          const r = await api('ram', 'UpdateRole', { RoleName: role.RoleName, NewAssumeRolePolicyDocument: ta.value });
          toast('Trust policy updated');
          panel.replaceChildren();
          trustPanel(panel, r.Role, reload);
          if (reload) reload(r.Role);
        } catch (e) {
          ok.disabled = false;
          err.replaceChildren(errorBox(e));
          ta.setAttribute('aria-invalid', 'true');
          err.firstChild.focus();
        }
      });
      panel.replaceChildren(h('label', { for: (ta.id = nextId('trust')), text: 'Trust policy document' }), ta, err, h('div', { class: 'actions' }, ok, cancel));
      ta.focus();
    }
  }

  async function roleDetail(name, tab) {
    setCrumbs([['RAM', '#/ram/roles'], ['RAM Roles', '#/ram/roles'], [name]]);
    view(h('h1', { text: name }), loading());
    let role;
    try { role = (await api('ram', 'GetRole', { RoleName: name })).Role; } catch (e) { view(h('h1', { text: name }), errorBox(e)); return; }
    const info = h('dl', { class: 'info' });
    const fillInfo = (r) => info.replaceChildren(
      h('dt', { text: 'RAM Role Name' }), h('dd', { text: r.RoleName }),
      h('dt', { text: 'Created' }), h('dd', { text: fmtDate(r.CreateDate) }),
      h('dt', { text: 'Note' }), h('dd', { text: r.Description || '—' }),
      h('dt', { text: 'ARN' }), h('dd', {}, h('code', { text: r.Arn })),
      h('dt', { text: 'Maximum session duration' }), h('dd', { text: `${r.MaxSessionDuration} seconds` }));
    fillInfo(role);
    const [tablist, panel] = tabs([
      { id: 'permissions', title: 'Permissions', render: (p) => permissionsPanel(p, 'Role', role.RoleName) },
      { id: 'trust', title: 'Trust Policy Management', render: (p) => trustPanel(p, role, (r) => { role = r; fillInfo(r); }) },
      { id: 'tags', title: 'Tags', render: (p) => tagsPanel(p, 'role', role.RoleName) },
    ], ['trust', 'tags'].includes(tab) ? tab : 'permissions',
    (id) => history.replaceState(null, '', `#/ram/roles/${encodeURIComponent(name)}${id === 'permissions' ? '' : `?tab=${id}`}`));
    view(h('h1', { text: role.RoleName }), h('section', { class: 'card', 'aria-label': 'Basic Information' }, h('h2', { text: 'Basic Information' }), info), h('section', { class: 'card' }, tablist, panel));
  }

  // Tags of a role or policy (TagResources / UntagResources / ListTagResources).
  function tagsPanel(panel, type, name) {
    const holder = h('div', {}, loading());
    const err = h('div');
    const key = h('input', { type: 'text', id: nextId('tagkey'), maxlength: '128', autocomplete: 'off' });
    const value = h('input', { type: 'text', id: nextId('tagvalue'), maxlength: '256', autocomplete: 'off' });
    const add = h('button', { type: 'submit', class: 'primary' }, 'Add Tag');
    const form = h('form', { class: 'inline-form', 'aria-label': 'Add a tag' },
      h('label', { for: key.id, text: 'Tag key' }), key, h('label', { for: value.id, text: 'Tag value' }), value, add);
    form.onsubmit = async (e) => {
      e.preventDefault(); err.replaceChildren();
      try {
        await api('ram', 'TagResources', { ResourceType: type, ResourceNames: JSON.stringify([name]), Tag: JSON.stringify([{ Key: key.value, Value: value.value }]) });
        toast(`Tag ${key.value} saved`); key.value = ''; value.value = ''; load();
      } catch (ex) { err.replaceChildren(errorBox(ex)); err.firstChild.focus(); }
    };
    panel.append(holder, form, err);
    async function load() {
      let rows;
      try { rows = (await api('ram', 'ListTagResources', { ResourceType: type, ResourceNames: JSON.stringify([name]) })).TagResources || []; } catch (e) {
        holder.replaceChildren(errorBox(e)); return;
      }
      holder.replaceChildren(dataTable({
        label: 'Tags',
        columns: [
          { title: 'Key', render: (r) => h('code', { text: r.TagKey }) },
          { title: 'Value', render: (r) => r.TagValue },
          { title: 'Actions', render: (r) => h('button', { type: 'button', class: 'link danger', 'aria-label': `Remove tag ${r.TagKey}`, onclick: async () => {
            try { await api('ram', 'UntagResources', { ResourceType: type, ResourceNames: JSON.stringify([name]), TagKeys: JSON.stringify([r.TagKey]) }); load(); } catch (e) { err.replaceChildren(errorBox(e)); }
          } }, 'Remove') },
        ],
        rows,
        empty: 'No tags.',
      }).table);
    }
    load();
  }

  // ---------------------------------------------------------------------------------------
  // RAM > MFA Devices: a RAM user binds its own virtual MFA device; the account sees them all.

  function qrImage(png) { return h('img', { class: 'qr', src: `data:image/png;base64,${png}`, alt: 'QR code of the MFA key', width: '200', height: '200' }); }

  async function mfaPage() {
    setCrumbs([['RAM', '#/ram/roles'], ['MFA Devices']]);
    const mine = h('section', { class: 'card', 'aria-labelledby': 'my-mfa-h' }, h('h2', { id: 'my-mfa-h', text: 'My MFA device' }));
    const all = h('section', { class: 'card', 'aria-labelledby': 'all-mfa-h' }, h('h2', { id: 'all-mfa-h', text: 'Virtual MFA devices of the account' }));
    const isUser = state.identity.Type === 'RAMUser';
    view(h('h1', { text: 'MFA Devices' }), isUser ? mine : null, all);
    if (isUser) myDevice(mine.appendChild(h('div', {}, loading())));
    listDevices(all.appendChild(h('div', {}, loading())));
  }

  async function myDevice(holder) {
    let bound = null;
    try { bound = (await api('ram', 'GetUserMFAInfo', {})).MFADevice; } catch (e) {
      if (e.code !== 'EntityNotExist.User.MFADevice') { holder.replaceChildren(errorBox(e)); return; }
    }
    if (bound) {
      holder.replaceChildren(h('p', {}, 'Bound: ', h('code', { text: bound.SerialNumber })),
        h('button', { type: 'button', class: 'danger', onclick: () => confirmDialog({
          title: 'Unbind MFA Device', text: 'Unbind your MFA device? Console sign-in will no longer ask for a code.', okText: 'Unbind',
          run: async () => { await api('ram', 'UnbindMFADevice', {}); await api('ram', 'DeleteVirtualMFADevice', { SerialNumber: bound.SerialNumber }).catch(() => {}); myDevice(holder); },
        }) }, 'Unbind'));
      return;
    }
    const start = h('button', { type: 'button', class: 'primary', id: 'mfa-start' }, 'Bind a virtual MFA device');
    const err = h('div');
    holder.replaceChildren(h('p', { text: 'You have no MFA device. With one, console sign-in asks for a code from your authenticator app.' }), start, err);
    start.onclick = async () => {
      err.replaceChildren();
      let dev;
      const name = state.identity.UserName;
      try { dev = (await api('ram', 'CreateVirtualMFADevice', { VirtualMFADeviceName: name })).VirtualMFADevice; } catch (e) {
        if (e.code !== 'EntityAlreadyExists.VirtualMFADevice') { err.replaceChildren(errorBox(e)); return; }
        // An unbound device left from an earlier try: start again with a new key.
        try {
          await api('ram', 'DeleteVirtualMFADevice', { SerialNumber: `acs:ram::${state.identity.AccountId}:mfa/${name}` });
          dev = (await api('ram', 'CreateVirtualMFADevice', { VirtualMFADeviceName: name })).VirtualMFADevice;
        } catch (e2) { err.replaceChildren(errorBox(e2)); return; }
      }
      const c1 = h('input', { type: 'text', id: 'mfa-code1', inputmode: 'numeric', maxlength: '6', autocomplete: 'one-time-code', required: true });
      const c2 = h('input', { type: 'text', id: 'mfa-code2', inputmode: 'numeric', maxlength: '6', autocomplete: 'one-time-code', required: true });
      const ok = h('button', { type: 'submit', class: 'primary' }, 'Bind');
      const ferr = h('div');
      const form = h('form', {}, qrImage(dev.QRCodePNG), h('p', { class: 'hint' }, 'Key: ', h('code', { id: 'mfa-seed', text: dev.Base32StringSeed })),
        ...field('First code', c1, 'The code your app shows now.', true), ...field('Next code', c2, 'The code that follows it.', true), ok, ferr);
      form.onsubmit = async (e) => {
        e.preventDefault(); ferr.replaceChildren(); ok.disabled = true;
        try {
          await api('ram', 'BindMFADevice', { SerialNumber: dev.SerialNumber, AuthenticationCode1: c1.value.trim(), AuthenticationCode2: c2.value.trim() });
          toast('MFA device bound'); myDevice(holder);
        } catch (ex) { ok.disabled = false; ferr.replaceChildren(errorBox(ex)); ferr.firstChild.focus(); }
      };
      holder.replaceChildren(h('p', { text: 'Scan the QR code with an authenticator app (or enter the key), then enter two consecutive codes.' }), form);
      c1.focus();
    };
  }

  async function listDevices(holder) {
    let rows;
    try { rows = ((await api('ram', 'ListVirtualMFADevices', {})).VirtualMFADevices || {}).VirtualMFADevice || []; } catch (e) {
      holder.replaceChildren(errorBox(e)); return;
    }
    holder.replaceChildren(dataTable({
      label: 'Virtual MFA devices',
      columns: [
        { title: 'Serial number', render: (d) => h('code', { text: d.SerialNumber }) },
        { title: 'User', render: (d) => (d.User ? d.User.UserName : '—') },
        { title: 'Bound since', render: (d) => fmtDate(d.ActivateDate) || '—' },
        { title: 'Actions', render: (d) => (d.User
          ? h('button', { type: 'button', class: 'link danger', onclick: () => confirmDialog({
            title: 'Unbind MFA Device', text: `Unbind the MFA device of ${d.User.UserName}?`, okText: 'Unbind',
            run: async () => { await api('ram', 'UnbindMFADevice', { UserName: d.User.UserName }); listDevices(holder); },
          }) }, 'Unbind')
          : h('button', { type: 'button', class: 'link danger', onclick: async () => {
            try { await api('ram', 'DeleteVirtualMFADevice', { SerialNumber: d.SerialNumber }); listDevices(holder); } catch (e) { holder.prepend(errorBox(e)); }
          } }, 'Delete')) },
      ],
      rows,
      empty: 'No virtual MFA devices.',
    }).table);
  }

  // ---------------------------------------------------------------------------------------
  // RAM > Settings: the password policy and the security preference.

  async function settingsPage() {
    setCrumbs([['RAM', '#/ram/roles'], ['Settings']]);
    const pp = h('section', { class: 'card', 'aria-labelledby': 'pp-h' }, h('h2', { id: 'pp-h', text: 'Password Policy' }));
    const sp = h('section', { class: 'card', 'aria-labelledby': 'sp-h' }, h('h2', { id: 'sp-h', text: 'Security Preference' }));
    view(h('h1', { text: 'Settings' }), pp, sp);
    let policy; let pref;
    try {
      policy = (await api('ram', 'GetPasswordPolicy', {})).PasswordPolicy;
      pref = (await api('ram', 'GetSecurityPreference', {})).SecurityPreference;
    } catch (e) { pp.append(errorBox(e)); return; }
    const num = (id, v, min, max) => h('input', { type: 'number', id, value: String(v), min: String(min), max: String(max) });
    const box = (id, v) => h('input', { type: 'checkbox', id, checked: v });
    const min = num('pp-min', policy.MinimumPasswordLength, 8, 32);
    const lower = box('pp-lower', policy.RequireLowercaseCharacters);
    const upper = box('pp-upper', policy.RequireUppercaseCharacters);
    const digits = box('pp-numbers', policy.RequireNumbers);
    const symbols = box('pp-symbols', policy.RequireSymbols);
    const age = num('pp-age', policy.MaxPasswordAge, 0, 1095);
    const reuse = num('pp-reuse', policy.PasswordReusePrevention, 0, 24);
    const attempts = num('pp-attempts', policy.MaxLoginAttemps, 0, 32);
    const hard = box('pp-hard', policy.HardExpiry);
    const ppErr = h('div');
    const ppForm = h('form', {},
      ...field('Minimum length', min, '8 to 32 characters.'),
      h('fieldset', {}, h('legend', { text: 'Required characters' }),
        h('label', { class: 'choice', for: lower.id }, lower, 'Lower-case letters'), h('label', { class: 'choice', for: upper.id }, upper, 'Upper-case letters'),
        h('label', { class: 'choice', for: digits.id }, digits, 'Digits'), h('label', { class: 'choice', for: symbols.id }, symbols, 'Symbols')),
      ...field('Password validity (days)', age, '0: never expires.'),
      h('label', { class: 'choice', for: hard.id }, hard, 'An expired password cannot be changed at sign-in (an administrator resets it)'),
      ...field('Passwords that cannot be reused', reuse, '0 to 24.'),
      ...field('Failed sign-ins before lock-out', attempts, '0: rolestack\'s own limit.'),
      h('button', { type: 'submit', class: 'primary', id: 'pp-save' }, 'Save Password Policy'), ppErr);
    ppForm.onsubmit = async (e) => {
      e.preventDefault(); ppErr.replaceChildren();
      try {
        await api('ram', 'SetPasswordPolicy', {
          MinimumPasswordLength: min.value, RequireLowercaseCharacters: lower.checked, RequireUppercaseCharacters: upper.checked,
          RequireNumbers: digits.checked, RequireSymbols: symbols.checked, MaxPasswordAge: age.value, HardExpiry: hard.checked,
          PasswordReusePrevention: reuse.value, MaxLoginAttemps: attempts.value,
        });
        toast('Password policy saved');
      } catch (ex) { ppErr.replaceChildren(errorBox(ex)); ppErr.firstChild.focus(); }
    };
    pp.append(ppForm);
    const lp = pref.LoginProfilePreference;
    const changePw = box('sp-changepw', lp.AllowUserToChangePassword);
    const keys = box('sp-keys', pref.AccessKeyPreference.AllowUserToManageAccessKeys);
    const mfa = box('sp-mfa', pref.MFAPreference.AllowUserToManageMFADevices);
    const masks = h('input', { type: 'text', id: 'sp-masks', value: lp.LoginNetworkMasks || '', placeholder: '10.0.0.0/8;192.168.0.0/16' });
    const hours = num('sp-hours', lp.LoginSessionDuration, 1, 24);
    const spErr = h('div');
    const spForm = h('form', {},
      h('label', { class: 'choice', for: changePw.id }, changePw, 'RAM users may change their own password'),
      h('label', { class: 'choice', for: mfa.id }, mfa, 'RAM users may manage their own MFA device'),
      h('label', { class: 'choice', for: keys.id }, keys, 'RAM users may manage their own AccessKeys'),
      ...field('Console sign-in allowed from', masks, 'Semicolon-separated networks; empty: anywhere.'),
      ...field('Console session duration (hours)', hours, '1 to 24.'),
      h('button', { type: 'submit', class: 'primary', id: 'sp-save' }, 'Save Security Preference'), spErr);
    spForm.onsubmit = async (e) => {
      e.preventDefault(); spErr.replaceChildren();
      try {
        await api('ram', 'SetSecurityPreference', {
          AllowUserToChangePassword: changePw.checked, AllowUserToManageAccessKeys: keys.checked, AllowUserToManageMFADevices: mfa.checked,
          LoginNetworkMasks: masks.value.trim(), LoginSessionDuration: hours.value,
        }, { keepEmpty: ['LoginNetworkMasks'] });
        toast('Security preference saved');
      } catch (ex) { spErr.replaceChildren(errorBox(ex)); spErr.firstChild.focus(); }
    };
    sp.append(spForm);
  }

  // ---------------------------------------------------------------------------------------
  // RAM > Policies

  async function policiesPage() {
    setCrumbs([['RAM', '#/ram/roles'], ['Policies']]);
    const holder = h('div', {}, loading());
    view(h('h1', { text: 'Policies' }), h('p', { class: 'page-desc', text: 'System policies are built in; custom policies are yours. A policy grants permissions once it is attached to a user, group or role.' }), holder);
    let all;
    try { all = await listAll('ListPolicies', 'Policies', 'Policy'); } catch (e) { holder.replaceChildren(errorBox(e)); return; }
    const typeSel = h('select', { id: nextId('ptype') }, h('option', { value: '' }, 'All types'), h('option', { value: 'System' }, 'System Policy'), h('option', { value: 'Custom' }, 'Custom Policy'));
    const render = () => {
      const rows = typeSel.value ? all.filter((p) => p.PolicyType === typeSel.value) : all;
      const t = dataTable({
        label: 'Policies', rows, empty: 'No policies.',
        search: { label: 'Search by policy name or note', placeholder: 'Policy name', keys: (p) => [p.PolicyName, p.Description] },
        columns: [
          { title: 'Policy Name', render: (p) => h('a', { href: `#/ram/policies/${p.PolicyType}/${encodeURIComponent(p.PolicyName)}`, text: p.PolicyName }) },
          { title: 'Policy Type', render: (p) => h('span', { class: p.PolicyType === 'System' ? 'tag sys' : 'tag', text: `${p.PolicyType} Policy` }) },
          { title: 'Note', render: (p) => p.Description || '' },
          { title: 'References', render: (p) => String(p.AttachmentCount ?? '') },
          { title: 'Updated', render: (p) => fmtDate(p.UpdateDate || p.CreateDate) },
        ],
      });
      holder.replaceChildren(h('div', { class: 'toolbar' },
        h('a', { class: 'button primary', href: '#/ram/policies/create' }, 'Create Policy'), h('div', { class: 'grow' }),
        h('div', {}, h('label', { for: typeSel.id, text: 'Policy type' }), typeSel), t.search), t.table);
    };
    typeSel.addEventListener('change', render);
    render();
  }

  const POLICY_TEMPLATE = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['oss:Get*', 'oss:List*'], Resource: '*' }] }, null, 2);

  function createPolicyPage() {
    setCrumbs([['RAM', '#/ram/roles'], ['Policies', '#/ram/policies'], ['Create Policy']]);
    // (names carry no maxlength, here and for users and roles: RAM refuses a name too long and
    // says so, where a browser would silently cut it)
    const name = h('input', { type: 'text', name: 'PolicyName', autocomplete: 'off' });
    const note = h('textarea', { name: 'Description', maxlength: '1024' });
    const doc = h('textarea', { class: 'code', name: 'PolicyDocument', spellcheck: 'false', 'aria-describedby': 'policy-error' }, POLICY_TEMPLATE);
    const err = h('div', { id: 'policy-error' });
    const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
    const form = h('form', { class: 'card', novalidate: true },
      ...field('Policy Name', name, 'Up to 128 characters: letters, digits and hyphens (-).', true),
      ...field('Note', note),
      ...field('Policy Document (JSON)', doc, null, true), err,
      h('div', { class: 'actions' }, ok, h('a', { class: 'button', href: '#/ram/policies' }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.replaceChildren();
      ok.disabled = true;
      try {
        await api('ram', 'CreatePolicy', { PolicyName: name.value.trim(), Description: note.value, PolicyDocument: doc.value });
        toast(`Created policy ${name.value.trim()}`);
        location.hash = `#/ram/policies/Custom/${encodeURIComponent(name.value.trim())}`;
      } catch (ex) {
        ok.disabled = false;
        err.replaceChildren(errorBox(ex));
        err.firstChild.focus();
      }
    });
    view(h('h1', { text: 'Create Policy' }), form);
    name.focus();
  }

  async function policyDetail(type, name, tab) {
    setCrumbs([['RAM', '#/ram/roles'], ['Policies', '#/ram/policies'], [name]]);
    view(h('h1', { text: name }), loading());
    let body;
    try { body = await api('ram', 'GetPolicy', { PolicyType: type, PolicyName: name }); } catch (e) { view(h('h1', { text: name }), errorBox(e)); return; }
    const p = body.Policy;
    const custom = p.PolicyType === 'Custom';
    const info = h('dl', { class: 'info' },
      h('dt', { text: 'Policy Name' }), h('dd', { text: p.PolicyName }),
      h('dt', { text: 'Policy Type' }), h('dd', { text: `${p.PolicyType} Policy` }),
      h('dt', { text: 'Default Version' }), h('dd', { text: p.DefaultVersion }),
      h('dt', { text: 'Note' }), h('dd', { text: p.Description || '—' }),
      h('dt', { text: 'Created' }), h('dd', { text: fmtDate(p.CreateDate) }),
      h('dt', { text: 'References' }), h('dd', { text: String(p.AttachmentCount ?? '') }));
    const docPanel = (panel) => {
      const pre = h('pre', { class: 'doc', 'aria-label': 'Policy document', text: prettyJson(p.PolicyDocument || (body.DefaultPolicyVersion || {}).PolicyDocument || '') });
      if (!custom) { panel.append(pre); return; }
      const modify = h('button', { type: 'button', class: 'primary', onclick: () => {
        const ta = h('textarea', { class: 'code', spellcheck: 'false', id: nextId('doc'), 'aria-describedby': 'version-error' }, pre.textContent);
        const err = h('div', { id: 'version-error' });
        const ok = h('button', { type: 'button', class: 'primary' }, 'OK');
        ok.addEventListener('click', async () => {
          err.replaceChildren(); ok.disabled = true;
          try {
            await api('ram', 'CreatePolicyVersion', { PolicyName: p.PolicyName, PolicyDocument: ta.value, SetAsDefault: true });
            toast('New default version created');
            policyDetail(type, name, 'document');
          } catch (e) { ok.disabled = false; err.replaceChildren(errorBox(e)); err.firstChild.focus(); }
        });
        panel.replaceChildren(h('label', { for: ta.id, text: 'Policy document (saved as a new default version)' }), ta, err,
          h('div', { class: 'actions' }, ok, h('button', { type: 'button', onclick: () => { panel.replaceChildren(); docPanel(panel); } }, 'Cancel')));
        ta.focus();
      } }, 'Modify Policy Document');
      panel.append(h('div', { class: 'toolbar' }, modify), pre);
    };
    const versionsPanel = async (panel) => {
      panel.append(loading());
      let versions;
      try { versions = (await api('ram', 'ListPolicyVersions', { PolicyType: p.PolicyType, PolicyName: p.PolicyName })).PolicyVersions.PolicyVersion; } catch (e) { panel.replaceChildren(errorBox(e)); return; }
      const t = dataTable({
        label: 'Policy versions', rows: versions,
        columns: [
          { title: 'Version', render: (v) => [v.VersionId, v.IsDefaultVersion ? [' ', h('span', { class: 'tag ok', text: 'Default' })] : null] },
          { title: 'Created', render: (v) => fmtDate(v.CreateDate) },
          { title: 'Actions', class: 'actions-cell', render: (v) => [
            h('button', { type: 'button', class: 'link', 'aria-label': `View ${v.VersionId}`, onclick: () => openDialog({ title: `${p.PolicyName} ${v.VersionId}`, build: ({ form, head, close }) => {
              dlgParts(form, head, h('pre', { class: 'doc', text: prettyJson(v.PolicyDocument) }), h('button', { type: 'button', class: 'primary', onclick: close }, 'Close'));
            } }) }, 'View'),
            custom && !v.IsDefaultVersion ? [' ', h('button', { type: 'button', class: 'link', 'aria-label': `Set ${v.VersionId} as default`, onclick: async () => {
              try { await api('ram', 'SetDefaultPolicyVersion', { PolicyName: p.PolicyName, VersionId: v.VersionId }); toast(`${v.VersionId} is the default version`); policyDetail(type, name, 'versions'); } catch (e) { panel.prepend(errorBox(e)); }
            } }, 'Set as Default'), ' ', h('button', { type: 'button', class: 'link danger', 'aria-label': `Delete ${v.VersionId}`, onclick: () => confirmDialog({
              title: 'Delete Version', text: `Delete version ${v.VersionId} of ${p.PolicyName}?`, okText: 'Delete',
              run: async () => { await api('ram', 'DeletePolicyVersion', { PolicyName: p.PolicyName, VersionId: v.VersionId }); policyDetail(type, name, 'versions'); },
            }) }, 'Delete')] : null,
          ] },
        ],
      });
      panel.replaceChildren(t.table);
    };
    const refsPanel = async (panel) => {
      panel.append(loading());
      let e;
      try { e = await api('ram', 'ListEntitiesForPolicy', { PolicyType: p.PolicyType, PolicyName: p.PolicyName }); } catch (ex) { panel.replaceChildren(errorBox(ex)); return; }
      const rows = [
        ...(e.Users?.User || []).map((u) => ({ type: 'RAM User', name: u.UserName, href: `#/ram/users/${encodeURIComponent(u.UserName)}`, date: u.AttachDate })),
        ...(e.Groups?.Group || []).map((g) => ({ type: 'RAM User Group', name: g.GroupName, date: g.AttachDate })),
        ...(e.Roles?.Role || []).map((r) => ({ type: 'RAM Role', name: r.RoleName, href: `#/ram/roles/${encodeURIComponent(r.RoleName)}`, date: r.AttachDate })),
      ];
      const t = dataTable({
        label: 'Where the policy is attached', rows, empty: 'The policy is not attached to anything.',
        columns: [
          { title: 'Principal', render: (r) => (r.href ? h('a', { href: r.href, text: r.name }) : r.name) },
          { title: 'Principal Type', render: (r) => r.type },
          { title: 'Attached', render: (r) => fmtDate(r.date) },
        ],
      });
      panel.replaceChildren(t.table);
    };
    const [tablist, panel] = tabs([
      { id: 'document', title: 'Policy Document', render: docPanel },
      { id: 'versions', title: 'Versions', render: versionsPanel },
      { id: 'references', title: 'References', render: refsPanel },
    ], ['versions', 'references'].includes(tab) ? tab : 'document');
    const del = custom ? h('button', { type: 'button', class: 'danger', onclick: () => confirmDialog({
      title: 'Delete Policy', text: `Delete the custom policy ${p.PolicyName}?`, okText: 'Delete',
      run: async () => { await api('ram', 'DeletePolicy', { PolicyName: p.PolicyName }); toast(`Deleted ${p.PolicyName}`); location.hash = '#/ram/policies'; },
    }) }, 'Delete Policy') : null;
    view(h('h1', { text: p.PolicyName }), h('section', { class: 'card', 'aria-label': 'Basic Information' }, h('div', { class: 'toolbar' }, h('h2', { class: 'grow', text: 'Basic Information' }), del), info), h('section', { class: 'card' }, tablist, panel));
  }

  // ---------------------------------------------------------------------------------------
  // RAM > Users

  async function usersPage() {
    setCrumbs([['RAM', '#/ram/roles'], ['Users']]);
    const holder = h('div', {}, loading());
    const create = h('button', { type: 'button', class: 'primary', onclick: () => createUserDialog(load) }, 'Create User');
    view(h('h1', { text: 'Users' }), h('p', { class: 'page-desc', text: 'RAM users are people or programs of this account. A user signs in to this console with a console password (its logon profile) and calls APIs with AccessKeys.' }), holder);
    async function load() {
      let users;
      try { users = await listAll('ListUsers', 'Users', 'User'); } catch (e) { holder.replaceChildren(h('div', { class: 'toolbar' }, create), errorBox(e)); return; }
      const t = dataTable({
        label: 'RAM users', rows: users, empty: 'No RAM users yet.',
        search: { label: 'Search by user name', placeholder: 'User name', keys: (u) => [u.UserName, u.DisplayName] },
        columns: [
          { title: 'User Logon Name', render: (u) => [h('a', { href: `#/ram/users/${encodeURIComponent(u.UserName)}`, text: `${u.UserName}@${state.identity.AccountId}` }), h('span', { class: 'sub', text: u.DisplayName })] },
          { title: 'Note', render: (u) => u.Comments || '' },
          { title: 'Created', render: (u) => fmtDate(u.CreateDate) },
          { title: 'Actions', class: 'actions-cell', render: (u) => [
            h('a', { href: `#/ram/users/${encodeURIComponent(u.UserName)}`, text: 'Add Permissions' }), ' ',
            h('button', { type: 'button', class: 'link danger', 'aria-label': `Delete user ${u.UserName}`, onclick: () => confirmDialog({
              title: 'Delete User', text: `Delete the RAM user ${u.UserName}?`, okText: 'Delete',
              run: async () => { await api('ram', 'DeleteUser', { UserName: u.UserName }); toast(`Deleted ${u.UserName}`); load(); },
            }) }, 'Delete'),
          ] },
        ],
      });
      holder.replaceChildren(h('div', { class: 'toolbar' }, create, h('div', { class: 'grow' }), t.search), t.table);
    }
    load();
  }

  function createUserDialog(after) {
    openDialog({
      title: 'Create User',
      build: ({ form, head, close }) => {
        const name = h('input', { type: 'text', name: 'UserName', autocomplete: 'off' });
        const display = h('input', { type: 'text', name: 'DisplayName', maxlength: '128', autocomplete: 'off' });
        const consoleBox = h('input', { type: 'checkbox', id: nextId('c') });
        const pw = h('input', { type: 'password', name: 'Password', autocomplete: 'new-password', maxlength: '32' });
        const reset = h('input', { type: 'checkbox', id: nextId('c') });
        const pwArea = h('div', { hidden: true }, ...field('Console Password', pw, '8 to 32 characters.', true),
          h('label', { class: 'choice', for: reset.id }, reset, 'Require a new password at next logon'));
        consoleBox.addEventListener('change', () => { pwArea.hidden = !consoleBox.checked; });
        const err = h('div');
        const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
        form.onsubmit = async () => {
          err.replaceChildren(); ok.disabled = true;
          const userName = name.value.trim();
          try {
            await api('ram', 'CreateUser', { UserName: userName, DisplayName: display.value.trim() });
            if (consoleBox.checked) await api('ram', 'CreateLoginProfile', { UserName: userName, Password: pw.value, PasswordResetRequired: reset.checked });
            toast(`Created ${userName}`);
            close();
            after();
          } catch (e) { ok.disabled = false; err.replaceChildren(errorBox(e)); err.firstChild.focus(); }
        };
        dlgParts(form, head, [...field('Logon Name', name, `Letters, digits, periods, hyphens and underscores; the user signs in as <name>@${state.identity.AccountId}.`, true),
          ...field('Display Name', display),
          h('label', { class: 'choice', for: consoleBox.id }, consoleBox, 'Console access (set a console password)'), pwArea, err],
        [ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
      },
    });
  }

  function loginPanel(panel, user) {
    const holder = h('div', {}, loading());
    panel.append(holder);
    const setPassword = (exists) => openDialog({
      title: exists ? 'Reset Console Password' : 'Enable Console Logon',
      build: ({ form, head, close }) => {
        const pw = h('input', { type: 'password', autocomplete: 'new-password', maxlength: '32' });
        const reset = h('input', { type: 'checkbox', id: nextId('c') });
        const err = h('div');
        const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
        form.onsubmit = async () => {
          err.replaceChildren(); ok.disabled = true;
          try {
            await api('ram', exists ? 'UpdateLoginProfile' : 'CreateLoginProfile', { UserName: user, Password: pw.value, PasswordResetRequired: reset.checked });
            toast('Console password saved'); close(); load();
          } catch (e) { ok.disabled = false; err.replaceChildren(errorBox(e)); err.firstChild.focus(); }
        };
        dlgParts(form, head, [...field('New Password', pw, '8 to 32 characters.', true), h('label', { class: 'choice', for: reset.id }, reset, 'Require a new password at next logon'), err],
          [ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
      },
    });
    async function load() {
      let profile = null;
      try { profile = (await api('ram', 'GetLoginProfile', { UserName: user })).LoginProfile; } catch (e) {
        if (e.code !== 'EntityNotExist.User.LoginProfile') { holder.replaceChildren(errorBox(e)); return; }
      }
      if (!profile) {
        holder.replaceChildren(h('p', { text: 'Console logon is disabled: the user has no console password.' }),
          h('button', { type: 'button', class: 'primary', onclick: () => setPassword(false) }, 'Enable Console Logon'));
        return;
      }
      holder.replaceChildren(h('dl', { class: 'info' },
        h('dt', { text: 'Console logon' }), h('dd', {}, h('span', { class: 'tag ok', text: 'Enabled' })),
        h('dt', { text: 'Logon name' }), h('dd', {}, h('code', { text: `${user}@${state.identity.AccountId}` })),
        h('dt', { text: 'Password reset required' }), h('dd', { text: profile.PasswordResetRequired ? 'Yes' : 'No' }),
        h('dt', { text: 'Enabled since' }), h('dd', { text: fmtDate(profile.CreateDate) })),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => setPassword(true) }, 'Reset Password'),
        h('button', { type: 'button', class: 'danger', onclick: () => confirmDialog({
          title: 'Disable Console Logon', text: `Remove the console password of ${user}? Its console sessions end.`, okText: 'Disable',
          run: async () => { await api('ram', 'DeleteLoginProfile', { UserName: user }); load(); },
        }) }, 'Disable Console Logon')));
    }
    load();
  }

  async function userDetail(name, tab) {
    setCrumbs([['RAM', '#/ram/roles'], ['Users', '#/ram/users'], [name]]);
    view(h('h1', { text: name }), loading());
    let u;
    try { u = (await api('ram', 'GetUser', { UserName: name })).User; } catch (e) { view(h('h1', { text: name }), errorBox(e)); return; }
    const info = h('dl', { class: 'info' },
      h('dt', { text: 'User Name' }), h('dd', { text: u.UserName }),
      h('dt', { text: 'Display Name' }), h('dd', { text: u.DisplayName || '—' }),
      h('dt', { text: 'UID' }), h('dd', { text: u.UserId }),
      h('dt', { text: 'Created' }), h('dd', { text: fmtDate(u.CreateDate) }),
      h('dt', { text: 'Last logon' }), h('dd', { text: fmtDate(u.LastLoginDate) || '—' }));
    const [tablist, panel] = tabs([
      { id: 'permissions', title: 'Permissions', render: (p) => permissionsPanel(p, 'User', u.UserName) },
      { id: 'logon', title: 'Console Logon', render: (p) => loginPanel(p, u.UserName) },
    ], tab === 'logon' ? 'logon' : 'permissions');
    view(h('h1', { text: u.UserName }), h('section', { class: 'card', 'aria-label': 'Basic Information' }, h('h2', { text: 'Basic Information' }), info), h('section', { class: 'card' }, tablist, panel));
  }

  // ---------------------------------------------------------------------------------------
  // ECS > Instances & Images > Instances

  async function regionSelector(onChange) {
    const slot = document.getElementById('region-slot');
    const sel = h('select', { id: 'region-select' });
    slot.replaceChildren(h('label', { for: sel.id, text: 'Region' }), sel);
    if (!state.regions) {
      try { state.regions = (await api('ecs', 'DescribeRegions', { AcceptLanguage: 'en-US' })).Regions.Region; } catch (_) { state.regions = [{ RegionId: state.region, LocalName: state.region }]; }
    }
    sel.replaceChildren(...state.regions.map((r) => h('option', { value: r.RegionId, selected: r.RegionId === state.region }, `${r.LocalName || r.RegionId} (${r.RegionId})`)));
    sel.addEventListener('change', () => { state.region = sel.value; localStorage.setItem('rolestack.region', sel.value); onChange(); });
  }

  async function describeAllInstances(region) {
    const out = [];
    for (let page = 1; page < 100; page++) {
      const b = await api('ecs', 'DescribeInstances', { RegionId: region, PageSize: 100, PageNumber: page });
      out.push(...b.Instances.Instance);
      if (out.length >= b.TotalCount || b.Instances.Instance.length === 0) break;
    }
    return out;
  }

  async function instanceRoles(region, instances) {
    const roles = {};
    const vpc = instances.filter((i) => i.InstanceNetworkType === 'vpc').map((i) => i.InstanceId);
    for (let i = 0; i < vpc.length; i += 50) {
      const b = await api('ecs', 'DescribeInstanceRamRole', { RegionId: region, InstanceIds: vpc.slice(i, i + 50), PageSize: 50 });
      for (const s of b.InstanceRamRoleSets.InstanceRamRoleSet) roles[s.InstanceId] = s.RamRoleName;
    }
    return roles;
  }

  async function instancesPage() {
    setCrumbs([['ECS', '#/ecs/instances'], ['Instances & Images'], ['Instances']]);
    const holder = h('div', {}, loading());
    view(h('h1', { text: 'Instances' }), h('p', { class: 'page-desc', text: 'ECS instances in the selected region. Bind a RAM role to a VPC instance (More > Instance Settings > Bind/Unbind RAM Role) and programs on it get the role\'s temporary credentials from the instance metadata service.' }), holder);
    await regionSelector(() => load());
    async function load() {
      holder.replaceChildren(loading());
      const region = state.region;
      let list;
      let roles = {};
      let roleErr = null;
      try { list = await describeAllInstances(region); } catch (e) { holder.replaceChildren(toolbar(), errorBox(e)); return; }
      try { roles = await instanceRoles(region, list); } catch (e) { roleErr = e; }
      const statusTag = (s) => h('span', { class: s === 'Running' ? 'tag ok' : s === 'Stopped' ? 'tag' : 'tag warn', text: s });
      const t = dataTable({
        label: 'Instances', rows: list, empty: `No instances in ${region}.`,
        search: { label: 'Search by instance ID or name', placeholder: 'Instance ID or name', keys: (i) => [i.InstanceId, i.InstanceName] },
        columns: [
          { title: 'Instance ID/Name', class: 'nowrap', render: (i) => [h('span', { text: i.InstanceId }), h('span', { class: 'sub', text: i.InstanceName })] },
          { title: 'Zone', class: 'nowrap', render: (i) => i.ZoneId },
          { title: 'Status', render: (i) => statusTag(i.Status) },
          { title: 'Network Type', render: (i) => (i.InstanceNetworkType === 'vpc' ? 'VPC' : 'Classic Network') },
          { title: 'VPC', render: (i) => (i.VpcAttributes.VpcId ? [h('span', { text: i.VpcAttributes.VpcId }), h('span', { class: 'sub', text: i.VpcAttributes.VSwitchId })] : '—') },
          { title: 'IP Address', render: (i) => [...(i.VpcAttributes.PrivateIpAddress.IpAddress || []), ...(i.InnerIpAddress.IpAddress || [])].join(', ') },
          { title: 'Security Group', render: (i) => ((i.SecurityGroupIds && i.SecurityGroupIds.SecurityGroupId.length) ? i.SecurityGroupIds.SecurityGroupId.join(', ') : '—') },
          { title: 'RAM Role', render: (i) => roles[i.InstanceId] || '—' },
          { title: 'Actions', class: 'actions-cell', render: (i) => menuButton('More', [
            { label: 'Instance Status', items: [
              { label: 'Start', run: () => simpleAction('StartInstance', i) },
              { label: 'Stop', run: () => simpleAction('StopInstance', i) },
            ] },
            { label: 'Instance Settings', items: [
              { label: 'Bind/Unbind RAM Role', run: () => bindRoleDialog(i, roles[i.InstanceId], load) },
              { label: 'Metadata Faults', run: () => faultsDialog(i) },
            ] },
          ], `More actions for ${i.InstanceId}`) },
        ],
      });
      holder.replaceChildren(...[toolbar(t.search), roleErr ? errorBox(roleErr) : null, t.table].filter(Boolean));
    }
    function toolbar(search) {
      return h('div', { class: 'toolbar' }, h('a', { class: 'button primary', href: '#/ecs/instances/create' }, 'Create Instance'),
        h('button', { type: 'button', onclick: () => load() }, 'Refresh'), h('div', { class: 'grow' }), search);
    }
    async function simpleAction(action, inst) {
      try { await api('ecs', action, { RegionId: state.region, InstanceId: inst.InstanceId }); toast(`${action}: ${inst.InstanceId}`); load(); } catch (e) { holder.prepend(errorBox(e)); holder.firstChild.focus(); }
    }
    load();
  }

  function bindRoleDialog(inst, current, after) {
    openDialog({
      title: 'Bind/Unbind RAM Role',
      build: ({ form, head, close }) => {
        const err = h('div');
        const sel = h('select', { name: 'RamRoleName' }, h('option', { value: '' }, 'Loading roles…'));
        const action = radioGroup('Action', 'bindaction', [{ value: 'bind', label: 'Bind' }, { value: 'unbind', label: 'Unbind', disabled: !current }], 'bind', (v) => { roleField.hidden = v === 'unbind'; });
        const roleField = h('div', {}, ...field('RAM Role', sel, 'Only RAM roles whose trust policy names Elastic Compute Service (ecs.aliyuncs.com) are listed.', true),
          h('p', { class: 'hint' }, 'Need a role? ', h('a', { href: '#/ram/roles', onclick: close }, 'Create RAM Role'), ' in RAM.'));
        const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
        ecsRoles().then((rs) => {
          sel.replaceChildren(h('option', { value: '' }, rs.length ? 'Select a RAM role' : 'No RAM role trusts ECS yet'),
            ...rs.map((r) => h('option', { value: r.RoleName, selected: r.RoleName === current }, r.RoleName)));
        }).catch((e) => { sel.replaceChildren(h('option', { value: '' }, 'Roles cannot be listed')); err.replaceChildren(errorBox(e)); });
        form.onsubmit = async () => {
          err.replaceChildren();
          const unbind = radioValue(form, 'bindaction') === 'unbind';
          const role = sel.value;
          if (!unbind && !role) { err.replaceChildren(errorBox({ code: 'MissingParameter', message: 'Select a RAM role.' })); sel.focus(); return; }
          ok.disabled = true;
          try {
            const b = unbind
              ? await api('ecs', 'DetachInstanceRamRole', { RegionId: inst.RegionId, InstanceIds: [inst.InstanceId], RamRoleName: current })
              : await api('ecs', 'AttachInstanceRamRole', { RegionId: inst.RegionId, InstanceIds: [inst.InstanceId], RamRoleName: role });
            const results = (b.AttachInstanceRamRoleResults || b.DetachInstanceRamRoleResults || {});
            const failed = (results.AttachInstanceRamRoleResult || results.DetachInstanceRamRoleResult || []).find((r) => !r.Success);
            if (failed) throw new ApiError({ Code: failed.Code, Message: failed.Message, RequestId: b.RequestId }, 200);
            toast(unbind ? `Unbound ${current} from ${inst.InstanceId}` : `Bound ${role} to ${inst.InstanceId}`);
            close();
            after();
          } catch (e) { ok.disabled = false; err.replaceChildren(errorBox(e)); err.firstChild.focus(); }
        };
        dlgParts(form, head, [
          h('dl', { class: 'info' }, h('dt', { text: 'Instance' }), h('dd', { text: `${inst.InstanceId} (${inst.InstanceName})` }),
            h('dt', { text: 'Network Type' }), h('dd', { text: inst.InstanceNetworkType === 'vpc' ? 'VPC' : 'Classic Network' }),
            h('dt', { text: 'Current RAM Role' }), h('dd', { text: current || 'None' })),
          action, roleField, err], [ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
      },
    });
  }

  // Instance Settings > Metadata Faults: break the instance's metadata service on purpose
  // (rolestack's InjectInstanceFault and friends, docs/faults.md).
  function faultsDialog(inst) {
    openDialog({
      title: 'Metadata Faults',
      build: ({ form, head, close }) => {
        const err = h('div');
        const current = h('div', {}, loading());
        const events = h('div');
        const kind = h('select', { name: 'Fault' }, ...[
          ['Delay', 'Delay (milliseconds)'], ['Status', 'HTTP status'], ['Reset', 'Reset the connection'], ['Timeout', 'Never answer'],
          ['Throttle', 'Throttle (requests per second)'], ['StaleCredentials', 'Stale credential document'],
          ['ExpireCredentials', 'Expire the credentials now'],
        ].map(([v, t]) => h('option', { value: v }, t)));
        const value = h('input', { name: 'Value', inputmode: 'numeric', placeholder: '2000, 500 or 5' });
        const path = h('input', { name: 'Path', placeholder: '*' });
        const seconds = h('input', { name: 'DurationSeconds', inputmode: 'numeric' });
        const count = h('input', { name: 'Count', inputmode: 'numeric' });
        const show = (e) => { err.replaceChildren(errorBox(e)); err.firstChild.focus(); };
        async function refresh() {
          try {
            const f = (await api('rolestack', 'DescribeInstanceFaults', { InstanceId: inst.InstanceId })).Faults.Fault;
            current.replaceChildren(f.length ? h('ul', {}, ...f.map((x) => h('li', { text: `${x.Fault.Kind} ${JSON.stringify(x.Fault)} since ${x.StartTime}${x.EndTime ? ` until ${x.EndTime}` : ''}${x.RemainingCount !== null ? `, ${x.RemainingCount} left` : ''} — ${x.Active ? 'active' : 'ended'}` }))) : h('p', { text: 'No faults.' }));
            const ev = (await api('rolestack', 'ListInstanceEvents', { InstanceId: inst.InstanceId, MaxResults: 10 })).Events.Event;
            events.replaceChildren(h('h3', { text: 'Events' }), ev.length ? h('ul', {}, ...ev.map((x) => h('li', { text: `${x.EventTime} ${x.Event} (${x.Action}) by ${x.Caller}` }))) : h('p', { text: 'Nothing injected yet.' }));
          } catch (e) { show(e); }
        }
        const run = (action, params, message) => async () => {
          err.replaceChildren();
          try { await api('rolestack', action, { InstanceId: inst.InstanceId, ...params }); toast(message); refresh(); } catch (e) { show(e); }
        };
        form.onsubmit = async () => {
          const p = { Fault: kind.value };
          for (const [k, el] of [['Value', value], ['Path', path], ['DurationSeconds', seconds], ['Count', count]]) if (el.value.trim()) p[k] = el.value.trim();
          await run('InjectInstanceFault', p, `Injected ${kind.value} into ${inst.InstanceId}`)();
        };
        dlgParts(form, head, [
          h('dl', { class: 'info' }, h('dt', { text: 'Instance' }), h('dd', { text: `${inst.InstanceId} (${inst.InstanceName})` })),
          h('h3', { text: 'Faults' }), current,
          ...field('Fault', kind, 'Applies to this instance\'s metadata service only, token requests included.', true),
          ...field('Value', value, 'Delay: milliseconds; HTTP status: 400-599; Throttle: requests per second.'),
          ...field('Path', path, 'A wildcard over request paths, e.g. /latest/meta-data/ram/*. Default: every path.'),
          ...field('Ends after (seconds)', seconds, 'By the server clock.'),
          ...field('Ends after (requests)', count),
          err, events,
        ], [h('button', { type: 'submit', class: 'primary' }, 'Inject Fault'),
          h('button', { type: 'button', onclick: run('ClearInstanceFaults', {}, 'Faults cleared') }, 'Clear Faults'),
          h('button', { type: 'button', onclick: run('RotateInstanceCredentials', {}, 'Credentials rotated') }, 'Rotate Credentials Now'),
          h('button', { type: 'button', onclick: run('ExpireInstanceCredentials', {}, 'Credentials expired') }, 'Expire Credentials Now'),
          h('button', { type: 'button', onclick: close }, 'Close')]);
        refresh();
      },
    });
  }

  const IMAGES = ['centos_7_03_64_40G_alibase_20170503.vhd', 'centos_7_9_x64_20G_alibase_20240628.vhd', 'aliyun_3_x64_20G_alibase_20221102.vhd', 'aliyun_2_1903_x64_20G_alibase_20240628.vhd'];

  async function createInstancePage() {
    setCrumbs([['ECS', '#/ecs/instances'], ['Instances & Images'], ['Instances', '#/ecs/instances'], ['Create Instance']]);
    const holder = h('div', {}, loading());
    view(h('h1', { text: 'Create Instance' }), holder);
    await regionSelector(() => createInstancePage());
    const region = state.region;
    const data = { zone: '', type: '', image: IMAGES[0], network: 'vpc', vpc: '', vswitch: '', name: '', host: '', role: '', tokens: 'optional' };
    let zones = [];
    try { zones = (await api('ecs', 'DescribeZones', { RegionId: region, AcceptLanguage: 'en-US' })).Zones.Zone; } catch (e) { holder.replaceChildren(errorBox(e)); return; }
    const stepNames = ['Basic Configurations', 'Networking', 'System Configurations', 'Preview'];
    const err = h('div');
    const stepsEl = (n) => h('ol', { class: 'steps', 'aria-label': 'Steps' }, stepNames.map((s, i) => h('li', { class: i < n ? 'done' : '', 'aria-current': i === n ? 'step' : null, text: s })));
    function show(n, body, onNext) {
      const form = h('form', { class: 'card', novalidate: true }, h('h2', { text: stepNames[n] }), body, err,
        h('div', { class: 'actions' },
          n > 0 ? h('button', { type: 'button', onclick: () => [basic, networking, system, preview][n - 1]() }, 'Previous') : null,
          h('button', { type: 'submit', class: 'primary' }, n === 3 ? 'Create Instance' : 'Next'),
          h('a', { class: 'button', href: '#/ecs/instances' }, 'Cancel')));
      form.addEventListener('submit', async (e) => { e.preventDefault(); err.replaceChildren(); await onNext(form); });
      holder.replaceChildren(stepsEl(n), form);
      const first = form.querySelector('input, select');
      if (first) first.focus();
    }
    function basic() {
      const zoneSel = h('select', {}, zones.map((z) => h('option', { value: z.ZoneId, selected: z.ZoneId === data.zone }, `${z.LocalName} (${z.ZoneId})`)));
      const typeSel = h('select', {});
      const fillTypes = () => {
        const z = zones.find((x) => x.ZoneId === zoneSel.value) || zones[0] || {};
        const types = ((z.AvailableInstanceTypes || {}).InstanceTypes) || [];
        typeSel.replaceChildren(...types.map((t) => h('option', { value: t, selected: t === data.type }, t)));
      };
      zoneSel.addEventListener('change', fillTypes);
      fillTypes();
      const images = h('datalist', { id: 'image-list' }, IMAGES.map((i) => h('option', { value: i })));
      const image = h('input', { type: 'text', list: 'image-list', value: data.image, spellcheck: 'false' });
      show(0, [h('p', { class: 'muted', text: `Region: ${region}` }), ...field('Zone', zoneSel, null, true), ...field('Instance Type', typeSel, null, true), ...field('Image', image, 'A public image ID.', true), images], () => {
        data.zone = zoneSel.value; data.type = typeSel.value; data.image = image.value.trim();
        networking();
      });
    }
    async function networking() {
      const vpcSel = h('select', {}, h('option', { value: '' }, 'Loading…'));
      const vswSel = h('select', {});
      const vpcArea = h('div', {}, ...field('VPC', vpcSel, null, true), ...field('vSwitch', vswSel, `vSwitches of the VPC in ${data.zone}.`, true));
      const net = radioGroup('Network Type', 'nettype', [{ value: 'vpc', label: 'VPC' }, { value: 'classic', label: 'Classic Network' }], data.network, (v) => { vpcArea.hidden = v !== 'vpc'; });
      vpcArea.hidden = data.network !== 'vpc';
      show(1, [net, vpcArea], () => {
        data.network = radioValue(holder, 'nettype');
        data.vpc = vpcSel.value; data.vswitch = vswSel.value;
        if (data.network === 'vpc' && !data.vswitch) { err.replaceChildren(errorBox({ code: 'MissingParameter', message: 'Select a VPC and a vSwitch (create them with CreateVpc and CreateVSwitch).' })); return; }
        system();
      });
      const fillVsw = async () => {
        vswSel.replaceChildren();
        if (!vpcSel.value) return;
        try {
          const list = (await api('ecs', 'DescribeVSwitches', { RegionId: region, VpcId: vpcSel.value, ZoneId: data.zone, PageSize: 50 })).VSwitches.VSwitch;
          vswSel.replaceChildren(...list.map((v) => h('option', { value: v.VSwitchId, selected: v.VSwitchId === data.vswitch }, `${v.VSwitchName || v.VSwitchId} (${v.VSwitchId}, ${v.CidrBlock})`)));
        } catch (e) { err.replaceChildren(errorBox(e)); }
      };
      try {
        const vpcs = (await api('ecs', 'DescribeVpcs', { RegionId: region, PageSize: 50 })).Vpcs.Vpc;
        vpcSel.replaceChildren(...(vpcs.length ? vpcs.map((v) => h('option', { value: v.VpcId, selected: v.VpcId === data.vpc }, `${v.VpcName || v.VpcId} (${v.VpcId}, ${v.CidrBlock})`)) : [h('option', { value: '' }, 'No VPC in this region')]));
        vpcSel.addEventListener('change', fillVsw);
        await fillVsw();
      } catch (e) { err.replaceChildren(errorBox(e)); }
    }
    async function system() {
      const name = h('input', { type: 'text', value: data.name, autocomplete: 'off' });
      const host = h('input', { type: 'text', value: data.host, autocomplete: 'off' });
      const role = h('select', { name: 'RamRoleName' }, h('option', { value: '' }, 'Loading roles…'));
      const tokens = radioGroup('Metadata Access Mode', 'tokens', [
        { value: 'optional', label: 'Normal mode', help: 'Both normal and security hardening (token) requests are accepted.' },
        { value: 'required', label: 'Security hardening mode', help: 'Every metadata request must carry a token (PUT /latest/api/token).' },
      ], data.tokens);
      show(2, [...field('Instance Name', name), ...field('Host Name', host),
        ...field('RAM Role', role, 'Only RAM roles that trust Elastic Compute Service are listed. The instance gets the role\'s temporary credentials from its metadata service.'), tokens], () => {
        data.name = name.value.trim(); data.host = host.value.trim(); data.role = role.value; data.tokens = radioValue(holder, 'tokens');
        preview();
      });
      try {
        const rs = await ecsRoles();
        role.replaceChildren(h('option', { value: '' }, 'None'), ...rs.map((r) => h('option', { value: r.RoleName, selected: r.RoleName === data.role }, r.RoleName)));
      } catch (e) { role.replaceChildren(h('option', { value: '' }, 'None')); err.replaceChildren(errorBox(e)); }
    }
    function preview() {
      const rows = [['Region', region], ['Zone', data.zone], ['Instance Type', data.type], ['Image', data.image],
        ['Network Type', data.network === 'vpc' ? 'VPC' : 'Classic Network'], ['VPC / vSwitch', data.network === 'vpc' ? `${data.vpc} / ${data.vswitch}` : '—'],
        ['Instance Name', data.name || '(instance ID)'], ['Host Name', data.host || '(generated)'], ['RAM Role', data.role || 'None'],
        ['Metadata Access Mode', data.tokens === 'required' ? 'Security hardening mode' : 'Normal mode']];
      show(3, h('dl', { class: 'info' }, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])), async (form) => {
        const btn = form.querySelector('button.primary');
        btn.disabled = true;
        try {
          const b = await api('ecs', 'RunInstances', {
            RegionId: region, ZoneId: data.zone, InstanceType: data.type, ImageId: data.image,
            VSwitchId: data.network === 'vpc' ? data.vswitch : undefined, InstanceName: data.name, HostName: data.host,
            RamRoleName: data.role, HttpTokens: data.tokens, Amount: 1,
          });
          toast(`Created ${b.InstanceIdSets.InstanceIdSet.join(', ')}`);
          location.hash = '#/ecs/instances';
        } catch (e) { btn.disabled = false; err.replaceChildren(errorBox(e)); err.firstChild.focus(); }
      });
    }
    basic();
  }

  // ---------------------------------------------------------------------------------------
  // VPC > VPCs: the VPCs and vSwitches of a region (VPC 2016-04-28), and the two dialogs that make
  // them — the network a VPC instance and its RAM role need first.

  async function vpcsPage() {
    setCrumbs([['VPC', '#/vpc/vpcs'], ['VPCs']]);
    const holder = h('div', {}, loading());
    view(h('h1', { text: 'VPCs' }), h('p', { class: 'page-desc', text: 'Virtual private clouds in the selected region and their vSwitches. An instance that gets a RAM role must be in a vSwitch of a VPC: create the VPC, then a vSwitch in one of its zones.' }), holder);
    await regionSelector(() => load());
    async function load() {
      holder.replaceChildren(loading());
      const region = state.region;
      let vpcs;
      let switches;
      try {
        vpcs = (await api('vpc', 'DescribeVpcs', { RegionId: region, PageSize: 50 })).Vpcs.Vpc;
        switches = (await api('vpc', 'DescribeVSwitches', { RegionId: region, PageSize: 50 })).VSwitches.VSwitch;
      } catch (e) { holder.replaceChildren(toolbar(), errorBox(e)); return; }
      const t = dataTable({
        label: 'VPCs', rows: vpcs, empty: `No VPCs in ${region}.`,
        search: { label: 'Search by VPC ID or name', placeholder: 'VPC ID or name', keys: (v) => [v.VpcId, v.VpcName] },
        columns: [
          { title: 'VPC ID/Name', class: 'nowrap', render: (v) => [h('span', { text: v.VpcId }), h('span', { class: 'sub', text: v.VpcName })] },
          { title: 'IPv4 CIDR Block', render: (v) => v.CidrBlock },
          { title: 'Status', render: (v) => h('span', { class: 'tag ok', text: v.Status }) },
          { title: 'vSwitches', render: (v) => {
            const mine = switches.filter((s) => s.VpcId === v.VpcId);
            return mine.length ? mine.map((s) => h('span', { class: 'sub', text: `${s.VSwitchId} ${s.VSwitchName} (${s.ZoneId}, ${s.CidrBlock})` })) : '—';
          } },
          { title: 'Actions', class: 'actions-cell', render: (v) => h('button', { type: 'button', class: 'link', 'aria-label': `Create vSwitch in ${v.VpcId}`, onclick: () => createVSwitchDialog(v, load) }, 'Create vSwitch') },
        ],
      });
      holder.replaceChildren(toolbar(t.search), t.table);
    }
    function toolbar(search) {
      return h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onclick: () => createVpcDialog(load) }, 'Create VPC'),
        h('button', { type: 'button', onclick: () => load() }, 'Refresh'), h('div', { class: 'grow' }), search);
    }
    load();
  }

  function createVpcDialog(after) {
    openDialog({
      title: 'Create VPC',
      build: ({ form, head, close }) => {
        const name = h('input', { type: 'text', name: 'VpcName', maxlength: '128', autocomplete: 'off' });
        const cidr = h('input', { type: 'text', name: 'CidrBlock', value: '192.168.0.0/16', autocomplete: 'off' });
        const err = h('div');
        const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
        form.onsubmit = async () => {
          err.replaceChildren(); ok.disabled = true;
          try {
            const b = await api('vpc', 'CreateVpc', { RegionId: state.region, VpcName: name.value.trim() || undefined, CidrBlock: cidr.value.trim() });
            toast(`Created ${b.VpcId}`);
            close();
            after();
          } catch (e) { ok.disabled = false; err.replaceChildren(errorBox(e)); err.firstChild.focus(); }
        };
        dlgParts(form, head, [...field('VPC Name', name, '2 to 128 characters, starting with a letter.'),
          ...field('IPv4 CIDR Block', cidr, '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or a part of one, with a mask of 8 to 24 bits.', true), err],
        [ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
      },
    });
  }

  function createVSwitchDialog(vpc, after) {
    openDialog({
      title: 'Create vSwitch',
      build: ({ form, head, close }) => {
        const name = h('input', { type: 'text', name: 'VSwitchName', maxlength: '128', autocomplete: 'off' });
        const zone = h('select', { name: 'ZoneId' });
        const cidr = h('input', { type: 'text', name: 'CidrBlock', autocomplete: 'off' });
        api('ecs', 'DescribeZones', { RegionId: state.region, AcceptLanguage: 'en-US', Verbose: false })
          .then((b) => zone.replaceChildren(...b.Zones.Zone.map((z) => h('option', { value: z.ZoneId }, `${z.LocalName} (${z.ZoneId})`))))
          .catch((e) => err.replaceChildren(errorBox(e)));
        const err = h('div');
        const ok = h('button', { type: 'submit', class: 'primary' }, 'OK');
        form.onsubmit = async () => {
          err.replaceChildren(); ok.disabled = true;
          try {
            const b = await api('vpc', 'CreateVSwitch', { RegionId: state.region, VpcId: vpc.VpcId, ZoneId: zone.value, VSwitchName: name.value.trim() || undefined, CidrBlock: cidr.value.trim() });
            toast(`Created ${b.VSwitchId}`);
            close();
            after();
          } catch (e) { ok.disabled = false; err.replaceChildren(errorBox(e)); err.firstChild.focus(); }
        };
        dlgParts(form, head, [h('p', { text: `VPC ${vpc.VpcId} (${vpc.CidrBlock})` }), ...field('vSwitch Name', name, '2 to 128 characters, starting with a letter.'),
          ...field('Zone', zone, '', true), ...field('IPv4 CIDR Block', cidr, `A block inside ${vpc.CidrBlock} with a mask of 16 to 29 bits.`, true), err],
        [ok, h('button', { type: 'button', onclick: close }, 'Cancel')]);
      },
    });
  }

  // ---------------------------------------------------------------------------------------
  // ActionTrail > Event Query: LookupEvents (2020-07-06) — one lookup attribute, a time range and a
  // direction; pages follow NextToken (the window of the first page is kept for the next ones);
  // a row's event name opens the whole event as ActionTrail recorded it.

  const LOOKUP_KEYS = [
    ['EventName', 'Event name', 'e.g. CreateRole'],
    ['ResourceName', 'Resource name', 'e.g. EcsRamRoleDocumentTesting'],
    ['ResourceType', 'Resource type', 'e.g. ACS::RAM::Role, ACS::ECS::Instance'],
    ['User', 'User name', 'root, a RAM user name, or <role>:<session>'],
    ['ServiceName', 'Service name', 'Ram, Sts, Ecs, Vpc, Oss, Actiontrail, Rolestack, or AasSub / AasCustomer (console sign-in)'],
    ['EventRW', 'Read/write type', 'Read or Write'],
    ['EventAccessKeyId', 'AccessKey ID', 'The AccessKey the request was signed with'],
    ['EventId', 'Event ID', 'An eventId'],
    ['SourceIpAddress', 'Source IP address', 'e.g. 127.0.0.1'],
    ['EventType', 'Event type', 'ApiCall, ConsoleOperation, ConsoleSignin, ConsoleSignout or AliyunServiceEvent'],
    ['RoleName', 'Role name', 'The role whose session made the call'],
  ];
  // Events of the console, labelled under their name in the list.
  const CONSOLE_EVENT_TYPES = { ConsoleOperation: 'Console operation', ConsoleSignin: 'Console sign-in', ConsoleSignout: 'Console sign-out' };
  const TIME_RANGES = [['1h', 'Last hour', 3600], ['24h', 'Last 24 hours', 86400], ['7d', 'Last 7 days', 7 * 86400], ['custom', 'Custom range (UTC)', 0]];
  const EVENT_PAGE_SIZES = ['10', '20', '50'];
  // How far the server's clock is ahead of this browser's (a server may run a moved, fake clock):
  // measured from the EndTime of a lookup that let the server choose it.
  let serverSkewMs = 0;

  const utcParam = (d) => `${d.toISOString().slice(0, 19)}Z`;
  // <input type=datetime-local> values are read and written as UTC here.
  const fromLocalInput = (v) => (v ? `${v.length === 16 ? `${v}:00` : v.slice(0, 19)}Z` : '');
  const toLocalInput = (s) => (s ? s.slice(0, 19) : '');

  // "Action: ram:CreateRole, Resource: acs:ram:*:123:role/x." in a RAM/ECS denial message.
  function deniedRequest(ev) {
    const m = /Action: (\S+), Resource: (\S+?)\.(?:\s|$)/.exec(ev.errorMessage || '');
    return m ? { action: m[1], resource: m[2] } : null;
  }

  // The Policy Simulator, prefilled with a refused event's principal, action and resource.
  function simulatorLink(ev) {
    const denied = deniedRequest(ev);
    const who = ev.userIdentity || {};
    if (!denied) return null;
    let subject = null;
    if (who.type === 'ram-user') subject = ['User', who.userName];
    else if (who.type === 'assumed-role' && who.sessionContext && who.sessionContext.sessionIssuer) subject = ['Role', who.sessionContext.sessionIssuer.userName];
    if (!subject) return null;
    const q = new URLSearchParams({ type: subject[0], name: subject[1], action: denied.action, resource: denied.resource });
    return h('a', { href: `#/diagnostics/simulator?${q}` }, `Why? Simulate ${denied.action} for ${subject[1]}`);
  }

  function eventsPage(params) {
    setCrumbs([['ActionTrail', '#/actiontrail/events'], ['Event Query']]);
    const keySel = h('select', { name: 'LookupAttributeKey' }, h('option', { value: '' }, 'No filter'),
      LOOKUP_KEYS.map(([k, label]) => h('option', { value: k, selected: k === params.get('key') }, `${label} (${k})`)));
    const value = h('input', { type: 'text', name: 'LookupAttributeValue', autocomplete: 'off', spellcheck: 'false', value: params.get('value') || '' });
    const rangeSel = h('select', { name: 'TimeRange' }, TIME_RANGES.map(([k, label]) => h('option', { value: k, selected: k === '7d' }, label)));
    const start = h('input', { type: 'datetime-local', step: '1', name: 'StartTime' });
    const end = h('input', { type: 'datetime-local', step: '1', name: 'EndTime' });
    const custom = h('div', { class: 'filter-row', hidden: true }, h('div', {}, ...field('Start time (UTC)', start)), h('div', {}, ...field('End time (UTC)', end)));
    const dirSel = h('select', { name: 'Direction' }, h('option', { value: 'BACKWARD' }, 'Newest first'), h('option', { value: 'FORWARD' }, 'Oldest first'));
    const sizeSel = h('select', { name: 'MaxResults' }, EVENT_PAGE_SIZES.map((n) => h('option', { value: n, selected: n === '20' }, n)));
    const hint = h('p', { class: 'hint', id: nextId('hint') });
    value.setAttribute('aria-describedby', hint.id);
    const showHint = () => {
      const k = LOOKUP_KEYS.find(([key]) => key === keySel.value);
      hint.textContent = k ? k[2] : 'Choose an attribute to filter on, or search all events of the time range.';
      value.disabled = !k;
    };
    keySel.addEventListener('change', showHint);
    showHint();
    rangeSel.addEventListener('change', () => {
      custom.hidden = rangeSel.value !== 'custom';
      if (!custom.hidden && !start.value) {
        const now = new Date(Date.now() + serverSkewMs);
        end.value = toLocalInput(utcParam(now));
        start.value = toLocalInput(utcParam(new Date(now.getTime() - 86400e3)));
      }
    });
    const search = h('button', { type: 'submit', class: 'primary' }, 'Search');
    const form = h('form', { class: 'card filters', novalidate: true, 'aria-label': 'Event filters' },
      h('div', { class: 'filter-row' },
        h('div', { class: 'key' }, ...field('Lookup attribute', keySel)),
        h('div', { class: 'wide' }, ...field('Attribute value', value), hint),
        h('div', {}, ...field('Time range', rangeSel)),
        h('div', {}, ...field('Order', dirSel)),
        h('div', {}, ...field('Events per page', sizeSel))),
      custom,
      h('div', { class: 'actions' }, search));
    const results = h('div', { 'aria-live': 'polite' });
    view(h('h1', { text: 'Event Query' }),
      h('p', { class: 'page-desc', text: 'Who did what: every API call, console operation and instance credential issue of your account, as ActionTrail events (LookupEvents), kept for seven days. Refused calls carry their error code; open an event to see everything it recorded.' }),
      form, results);

    let query = null; // the first page's parameters, with the window the server answered
    let pages = []; // the pages fetched so far (Previous page shows them again as they were)
    let pageIndex = 0;
    function build() {
      const p = { Direction: dirSel.value, MaxResults: sizeSel.value };
      if (keySel.value) { p['LookupAttribute.1.Key'] = keySel.value; p['LookupAttribute.1.Value'] = value.value.trim(); }
      const range = TIME_RANGES.find(([k]) => k === rangeSel.value);
      if (rangeSel.value === 'custom') {
        p.StartTime = fromLocalInput(start.value);
        p.EndTime = fromLocalInput(end.value);
      } else if (rangeSel.value !== '7d') {
        // only a start: the server's own "now" ends the window
        p.StartTime = utcParam(new Date(Date.now() + serverSkewMs - range[2] * 1000));
      }
      return p;
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      pages = [];
      pageIndex = 0;
      run(build());
    });
    async function run(q, token) {
      search.disabled = true;
      const sent = Date.now();
      let body;
      try {
        body = await api('actiontrail', 'LookupEvents', { ...q, NextToken: token });
      } catch (e) {
        search.disabled = false;
        results.replaceChildren(errorBox(e, 'events-error'));
        return;
      }
      search.disabled = false;
      if (!q.EndTime && !token) {
        // the server chose EndTime (its "now", in whole seconds)
        const drift = Date.parse(body.EndTime) - sent;
        serverSkewMs = Math.abs(drift) > 2000 ? drift : 0;
      }
      // Later pages keep this window, so they continue this list whatever happens meanwhile.
      query = { ...q, StartTime: body.StartTime, EndTime: body.EndTime };
      pages[pageIndex] = body;
      render(body);
    }
    function render(body) {
      const events = body.Events || [];
      const cols = ['Time', 'Event Name', 'Service', 'User', 'Resource', 'Error Code', 'Read/Write'];
      const tbody = h('tbody');
      for (const ev of events) {
        const detailId = nextId('event');
        const who = ev.userIdentity || {};
        const toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': detailId, 'aria-label': `${ev.eventName} at ${fmtDate(ev.eventTime)}: show the event` }, ev.eventName);
        const types = (ev.resourceType || '').split(';').filter(Boolean);
        const names = (ev.resourceName || '').split(';');
        const row = h('tr', {},
          h('td', { class: 'nowrap', text: fmtDate(ev.eventTime) }),
          h('td', {}, toggle, CONSOLE_EVENT_TYPES[ev.eventType] ? h('span', { class: 'sub', text: CONSOLE_EVENT_TYPES[ev.eventType] }) : null),
          h('td', { text: ev.serviceName || '' }),
          h('td', {}, h('span', { text: who.userName || '—' }), who.type ? h('span', { class: 'sub', text: who.type }) : null),
          h('td', {}, types.length ? types.map((t, i) => h('span', { class: 'resource' }, h('span', { text: names[i] || '' }), h('span', { class: 'sub', text: t }))) : '—'),
          h('td', {}, ev.errorCode ? h('span', { class: 'tag err', text: ev.errorCode }) : '—'),
          h('td', { text: ev.eventRW || '' }));
        const detail = h('tr', { class: 'event-detail', id: detailId, hidden: true },
          h('td', { colspan: cols.length },
            h('div', { class: 'event-head' }, h('strong', { text: `Event ${ev.eventId}` }), ev.errorCode ? simulatorLink(ev) : null),
            h('pre', { class: 'doc', 'aria-label': `Event ${ev.eventId}`, tabindex: '0', text: JSON.stringify(ev, null, 2) })));
        toggle.addEventListener('click', () => {
          const open = toggle.getAttribute('aria-expanded') !== 'true';
          toggle.setAttribute('aria-expanded', String(open));
          detail.hidden = !open;
          row.classList.toggle('open', open);
        });
        tbody.append(row, detail);
      }
      if (!events.length) tbody.append(h('tr', {}, h('td', { colspan: cols.length, class: 'empty', text: 'No events match.' })));
      const prev = h('button', { type: 'button', disabled: pageIndex === 0, onclick: () => { pageIndex--; render(pages[pageIndex]); } }, 'Previous page');
      const next = h('button', { type: 'button', disabled: !body.NextToken, onclick: () => {
        pageIndex++;
        if (pages[pageIndex]) render(pages[pageIndex]); else run(query, body.NextToken);
      } }, 'Next page');
      const filter = query['LookupAttribute.1.Key'] ? `${query['LookupAttribute.1.Key']} = ${query['LookupAttribute.1.Value']}` : 'All events';
      const order = query.Direction === 'FORWARD' ? 'oldest first' : 'newest first';
      results.replaceChildren(
        h('p', { class: 'muted event-summary', text: `${filter} · ${fmtDate(body.StartTime)} – ${fmtDate(body.EndTime)} · ${order}` }),
        h('div', { class: 'table-wrap' },
          h('table', { 'aria-label': 'Events' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))), tbody),
          h('div', { class: 'pager' }, h('span', { text: `Page ${pageIndex + 1} · ${events.length} event(s)${body.NextToken ? ' · more' : ''}` }), prev, next)));
    }
    run(build());
  }

  // ---------------------------------------------------------------------------------------
  // Access Diagnostics > Policy Simulator: rolestack's SimulatePolicy — what the engine decides for
  // a user, a group or a role (its session), per action, on a resource, under a request context,
  // optionally with a draft policy added; and a role's trust policy against a principal. Each
  // decision comes with the statements that matched and every condition's outcome.

  const SUBJECTS = [['User', 'RAM User', 'ListUsers', 'Users', 'User Name'], ['Group', 'RAM User Group', 'ListGroups', 'Groups', 'Group Name'], ['Role', 'RAM Role', 'ListRoles', 'Roles', 'Role Name']];
  const CONTEXT_KEYS = ['acs:SourceIp', 'acs:CurrentTime', 'acs:SecureTransport', 'acs:UserAgent', 'acs:MFAPresent', 'acs:AccessId', 'acs:PrincipalARN',
    'acs:SourceVpc', 'acs:Referer', 'ram:ServiceName', 'oss:Prefix', 'oss:Delimiter'];
  const TRUST_PRINCIPALS = ['ecs.aliyuncs.com', 'fc.aliyuncs.com', 'oss.aliyuncs.com', 'ros.aliyuncs.com'];
  const DECISIONS = {
    Allow: ['allow', 'Allowed: a statement allows it and none denies it.'],
    ImplicitDeny: ['implicit', 'Implicitly denied: no statement allows it.'],
    ExplicitDeny: ['explicit', 'Explicitly denied: a Deny statement matches (a Deny always wins).'],
  };

  function decisionTag(d) {
    return h('span', { class: `decision ${(DECISIONS[d] || ['implicit'])[0]}`, text: d });
  }

  function conditionList(conditions) {
    if (!conditions || !conditions.length) return h('span', { class: 'muted', text: 'none' });
    const show = (vs) => (vs && vs.length ? vs.join(', ') : '(absent)');
    return h('ul', { class: 'conditions' }, conditions.map((c) => h('li', { class: c.Matched ? 'met' : 'unmet' },
      h('span', { class: c.Matched ? 'tag ok' : 'tag err', text: c.Matched ? '✓ met' : '✗ not met' }), ' ',
      h('code', { text: `${c.Operator} ${c.Key}` }), ` in policy: ${show(c.Values)}; in request: ${show(c.RequestValues)}`)));
  }

  function simulationResult(r) {
    const statements = r.MatchedStatements || [];
    // (a trust check reports which statements matched, not per-condition outcomes)
    const detailed = statements.some((s) => s.Applies !== undefined);
    const rows = statements.map((s) => h('tr', {},
      h('td', {}, h('span', { text: s.PolicyName }),
        h('span', { class: 'sub', text: [s.PolicyType, s.PolicyVersion].filter(Boolean).join(' ') }),
        s.AttachedTo ? h('span', { class: 'sub', text: `attached to ${s.AttachedTo.Type} ${s.AttachedTo.Name}` }) : null),
      h('td', {}, h('span', { text: `statement ${s.StatementIndex}` }), s.Sid ? h('span', { class: 'sub', text: `Sid ${s.Sid}` }) : null),
      h('td', {}, h('span', { class: s.Effect === 'Deny' ? 'tag err' : 'tag ok', text: s.Effect })),
      detailed ? h('td', { text: s.Applies === undefined ? '—' : s.Applies ? 'Yes' : 'No, a condition is not met' }) : null,
      detailed ? h('td', {}, conditionList(s.Conditions)) : null));
    const decision = DECISIONS[r.Decision];
    return h('section', { class: `card sim-result ${(decision || ['implicit'])[0]}`, 'aria-label': `${r.Action}: ${r.Decision}` },
      h('div', { class: 'sim-head' }, h('h3', {}, h('code', { text: r.Action })), decisionTag(r.Decision)),
      h('dl', { class: 'info' },
        h('dt', { text: 'Resource' }), h('dd', {}, h('code', { text: r.Resource })),
        r.Principal ? [h('dt', { text: 'Principal' }), h('dd', {}, h('code', { text: r.Principal }))] : null,
        h('dt', { text: 'Decision' }), h('dd', { text: decision ? decision[1] : r.Decision }),
        h('dt', { text: 'Explanation' }), h('dd', { text: r.Explanation })),
      statements.length
        ? h('table', { 'aria-label': `Matched statements for ${r.Action}` },
          h('thead', {}, h('tr', {}, ['Policy', 'Statement', 'Effect', ...(detailed ? ['Applies', 'Conditions'] : [])].map((c) => h('th', { scope: 'col', text: c })))),
          h('tbody', {}, rows))
        : h('p', { class: 'muted', text: 'No statement matches this action and resource.' }));
  }

  // A <select> of the account's users, groups or roles; a text box when they cannot be listed.
  function nameChooser(slot, kind, selected) {
    const [, label, action, outer, nameLabel] = SUBJECTS.find(([k]) => k === kind);
    const sel = h('select', { name: 'SubjectName' }, h('option', { value: '' }, 'Loading…'));
    const chooser = { get value() { return (slot.querySelector('[name=SubjectName]') || {}).value || ''; } };
    slot.replaceChildren(...field(nameLabel, sel, null, true).filter(Boolean));
    listAll(action, outer, outer.slice(0, -1)).then((items) => {
      if (!sel.isConnected) return;
      const names = items.map((i) => i[`${kind}Name`]);
      sel.replaceChildren(h('option', { value: '' }, names.length ? `Select a ${label}` : `No ${label} yet`),
        ...names.map((n) => h('option', { value: n, selected: n === selected }, n)));
      if (selected && !names.includes(selected)) sel.append(h('option', { value: selected, selected: true }, selected));
    }).catch((e) => {
      if (!sel.isConnected) return;
      const input = h('input', { type: 'text', name: 'SubjectName', value: selected || '', autocomplete: 'off' });
      slot.replaceChildren(...field(nameLabel, input, `The ${label} list is not available to you (${e.code}); type the name.`, true));
    });
    return chooser;
  }

  function contextRows(initial) {
    const listId = nextId('ctxkeys');
    const rows = h('div', { class: 'context-rows' });
    const wrap = h('fieldset', {}, h('legend', { text: 'Request context' }),
      h('p', { class: 'hint', text: 'Condition keys and the values a request would carry (acs:CurrentTime is now unless given). Repeat a key for several values.' }),
      h('datalist', { id: listId }, CONTEXT_KEYS.map((k) => h('option', { value: k }))), rows,
      h('button', { type: 'button', onclick: () => add('', '', true) }, 'Add Context Entry'));
    function renumber() {
      [...rows.children].forEach((row, i) => {
        const [k, v, x] = row.querySelectorAll('input, button');
        k.setAttribute('aria-label', `Context key ${i + 1}`);
        v.setAttribute('aria-label', `Context value ${i + 1}`);
        x.setAttribute('aria-label', `Remove context entry ${i + 1}`);
      });
    }
    function add(key, val, focus) {
      const k = h('input', { type: 'text', list: listId, value: key, autocomplete: 'off', spellcheck: 'false', placeholder: 'acs:SourceIp' });
      const v = h('input', { type: 'text', value: val, autocomplete: 'off', spellcheck: 'false', placeholder: '10.1.2.3' });
      const row = h('div', { class: 'context-row' }, k, v, h('button', { type: 'button', class: 'link danger', onclick: () => { row.remove(); renumber(); } }, 'Remove'));
      rows.append(row);
      renumber();
      if (focus) k.focus();
    }
    for (const [k, v] of initial) add(k, v, false);
    return {
      el: wrap,
      params() {
        const out = {};
        let n = 0;
        for (const row of rows.children) {
          const [k, v] = row.querySelectorAll('input');
          if (!k.value.trim()) continue;
          n++;
          out[`ContextEntry.${n}.Key`] = k.value.trim();
          out[`ContextEntry.${n}.Value`] = v.value;
        }
        return out;
      },
    };
  }

  function simulatorPage(params) {
    setCrumbs([['Access Diagnostics', '#/diagnostics/simulator'], ['Policy Simulator']]);
    const results = h('div', { id: 'sim-results', 'aria-live': 'polite' });
    const [tablist, panel] = tabs([
      { id: 'permissions', title: 'Permission Simulation', render: (p) => permissionForm(p) },
      { id: 'trust', title: 'Trust Policy Check', render: (p) => trustForm(p) },
    ], params.get('mode') === 'trust' ? 'trust' : 'permissions', () => results.replaceChildren());
    view(h('h1', { text: 'Policy Simulator' }),
      h('p', { class: 'page-desc', text: 'Why would a request be allowed or denied? The simulator asks the same policy engine, over the same policies, as a real call (SimulatePolicy): pick a user, group or role, the actions, a resource and the request context, and optionally a draft policy to try before you attach it. Nothing is changed.' }),
      h('section', { class: 'card' }, tablist, panel), results);

    async function simulate(button, p) {
      button.disabled = true;
      results.replaceChildren(loading());
      try {
        const body = await api('rolestack', 'SimulatePolicy', p);
        const heading = h('h2', { text: 'Results', tabindex: '-1' });
        results.replaceChildren(heading, ...body.Results.map(simulationResult));
        heading.scrollIntoView({ block: 'start' });
        heading.focus({ preventScroll: true });
      } catch (e) {
        results.replaceChildren(errorBox(e, 'sim-error'));
        results.firstChild.focus();
      } finally { button.disabled = false; }
    }

    function permissionForm(p) {
      const initialKind = SUBJECTS.some(([k]) => k === params.get('type')) ? params.get('type') : 'User';
      const slot = h('div');
      let chooser = nameChooser(slot, initialKind, params.get('name'));
      const kind = radioGroup('Principal type', 'subjecttype', SUBJECTS.map(([k, label]) => ({ value: k, label })), initialKind,
        (k) => { chooser = nameChooser(slot, k, null); });
      kind.classList.add('inline');
      const actions = h('textarea', { name: 'Actions', spellcheck: 'false', rows: '3' }, params.getAll('action').join('\n'));
      const resource = h('input', { type: 'text', name: 'Resource', value: params.get('resource') || '*', spellcheck: 'false', autocomplete: 'off' });
      const context = contextRows([]);
      const draft = h('textarea', { class: 'code draft', name: 'PolicyDocument', spellcheck: 'false' });
      const err = h('div');
      const run = h('button', { type: 'submit', class: 'primary' }, 'Simulate');
      const form = h('form', { novalidate: true }, kind, slot,
        ...field('Actions', actions, 'One or more RAM actions, one per line (or separated by commas), e.g. oss:GetObject or ram:CreateRole.', true),
        ...field('Resource', resource, `The resource ARN, e.g. acs:ram:*:${state.identity.AccountId}:role/<name> or acs:oss:*:${state.identity.AccountId}:<bucket>/<object>; * for any.`),
        context.el,
        ...field('Draft policy (optional)', draft, 'A policy document to simulate as if it were attached too, e.g. one you are about to create.'),
        err, h('div', { class: 'actions' }, run));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        err.replaceChildren();
        const type = radioValue(form, 'subjecttype');
        const list = actions.value.split(/[\s,]+/).filter(Boolean);
        if (!chooser.value) { err.replaceChildren(errorBox({ code: 'MissingParameter', message: `Choose the ${SUBJECTS.find(([k]) => k === type)[1]} to simulate.` })); return; }
        if (!list.length) { err.replaceChildren(errorBox({ code: 'MissingParameter', message: 'Enter at least one action.' })); actions.focus(); return; }
        const q = { [`${type}Name`]: chooser.value, Resource: resource.value.trim() || '*', PolicyDocument: draft.value.trim(), ...context.params() };
        list.forEach((a, i) => { q[`Action.${i + 1}`] = a; });
        simulate(run, q);
      });
      p.append(form);
    }

    function trustForm(p) {
      const slot = h('div');
      const chooser = nameChooser(slot, 'Role', params.get('role'));
      const listId = nextId('principals');
      const principal = h('input', { type: 'text', name: 'Principal', list: listId, autocomplete: 'off', spellcheck: 'false', value: params.get('principal') || '' });
      const err = h('div');
      const run = h('button', { type: 'submit', class: 'primary' }, 'Check Trust Policy');
      const form = h('form', { novalidate: true }, h('p', { class: 'muted', text: 'May this principal assume the role (sts:AssumeRole) under the role\'s trust policy?' }), slot,
        ...field('Principal', principal, `A cloud service (ecs.aliyuncs.com), an account ID (${state.identity.AccountId}) or a RAM ARN (acs:ram::${state.identity.AccountId}:user/<name>).`, true),
        h('datalist', { id: listId }, TRUST_PRINCIPALS.map((s) => h('option', { value: s }))), err, h('div', { class: 'actions' }, run));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        err.replaceChildren();
        if (!chooser.value || !principal.value.trim()) { err.replaceChildren(errorBox({ code: 'MissingParameter', message: 'Choose a role and enter a principal.' })); return; }
        simulate(run, { AssumeRoleName: chooser.value, Principal: principal.value.trim() });
      });
      p.append(form);
    }
  }

  // ---------------------------------------------------------------------------------------
  // routing

  function route() {
    const raw = location.hash.replace(/^#\/?/, '');
    const [path, query] = raw.split('?');
    const params = new URLSearchParams(query || '');
    // A malformed escape (`%E0%A4%A`) is kept as typed: it names nothing, and the page says so.
    const decode = (x) => { try { return decodeURIComponent(x); } catch (_) { return x; } };
    const parts = path.split('/').filter(Boolean).map(decode);
    document.getElementById('region-slot').replaceChildren();
    document.querySelectorAll('.sidenav a').forEach((a) => {
      const on = path.startsWith(a.dataset.nav);
      if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
    const [p0, p1, p2, p3] = parts;
    if (p0 === 'ram' && p1 === 'roles' && p2) return roleDetail(p2, params.get('tab'));
    if (p0 === 'ram' && p1 === 'roles') return rolesPage();
    if (p0 === 'ram' && p1 === 'policies' && p2 === 'create') return createPolicyPage();
    if (p0 === 'ram' && p1 === 'policies' && p2 && p3) return policyDetail(p2, p3, params.get('tab'));
    if (p0 === 'ram' && p1 === 'policies') return policiesPage();
    if (p0 === 'ram' && p1 === 'users' && p2) return userDetail(p2, params.get('tab'));
    if (p0 === 'ram' && p1 === 'users') return usersPage();
    if (p0 === 'ram' && p1 === 'mfa') return mfaPage();
    if (p0 === 'ram' && p1 === 'settings') return settingsPage();
    if (p0 === 'ecs' && p1 === 'instances' && p2 === 'create') return createInstancePage();
    if (p0 === 'ecs' && p1 === 'instances') return instancesPage();
    if (p0 === 'vpc' && p1 === 'vpcs') return vpcsPage();
    if (p0 === 'actiontrail' && p1 === 'events') return eventsPage(params);
    if (p0 === 'diagnostics' && p1 === 'simulator') return simulatorPage(params);
    location.replace('#/ram/roles');
    return null;
  }

  async function start() {
    const res = await fetch('/console/api/session', { credentials: 'same-origin' });
    if (!res.ok) { location.href = '/console/signin'; return; }
    const s = await res.json();
    state.csrf = s.CsrfToken;
    state.identity = s.Identity;
    document.getElementById('signout-csrf').value = s.CsrfToken;
    document.getElementById('whoami').textContent = s.Identity.DisplayName + (s.MFAPresent ? ' (MFA)' : '');
    window.addEventListener('hashchange', () => { route(); document.getElementById('main').focus({ preventScroll: true }); });
    route();
  }

  start();
})();
