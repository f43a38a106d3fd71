// zabkeeper console: a dependency-free single page over ./api (see src/console/server.ts).
'use strict';

const main = document.getElementById('main');
const state = { overview: null, selected: '/', expanded: new Set(['/']), view: 'tree', cleanup: [] };

// ------------------------------------------------------------------ helpers

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

function toast(text, error) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.className = 'toast' + (error ? ' error' : '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.add('hidden'), 4000);
}

async function api(path, opts) {
  const o = opts || {};
  const headers = { 'Content-Type': 'application/json' };
  if (o.method && o.method !== 'GET') headers['X-Zabkeeper-Console'] = '1';
  const res = await fetch('api/' + path, { method: o.method || 'GET', headers, body: o.body ? JSON.stringify(o.body) : undefined });
  const body = await res.json();
  if (!res.ok) throw new Error(body.code ? body.code + ': ' + body.error : body.error);
  return body;
}

function b64ToBytes(b64) {
  const bin = atob(b64 || '');
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function asText(bytes) {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function asHex(bytes) {
  const lines = [];
  for (let o = 0; o < bytes.length; o += 16) {
    const row = Array.from(bytes.slice(o, o + 16));
    const hex = row.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = row.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(o.toString(16).padStart(8, '0') + '  ' + hex.padEnd(48) + ' ' + ascii);
  }
  return lines.join('\n') || '(empty)';
}

function asJson(bytes) {
  try {
    return JSON.stringify(JSON.parse(asText(bytes)), null, 2);
  } catch (e) {
    return 'not JSON: ' + e.message;
  }
}

const when = (ms) => new Date(Number(ms)).toISOString().replace('T', ' ').replace('Z', '');
const child = (p, name) => (p === '/' ? '/' + name : p + '/' + name);
const parentOf = (p) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));

// ------------------------------------------------------------------ tree view

async function renderTree() {
  const treePane = el('div', { class: 'panel tree', id: 'tree' });
  const nodePane = el('div', { class: 'panel', id: 'node' });
  main.replaceChildren(el('div', { class: 'split' }, treePane, nodePane));
  await drawTree(treePane);
  await showNode(nodePane, state.selected);
}

async function drawTree(pane) {
  async function branch(path) {
    const info = await api('node?path=' + encodeURIComponent(path)).catch(() => null);
    const kids = info ? info.children : [];
    const ul = el('ul');
    for (const name of kids) {
      const p = child(path, name);
      const open = state.expanded.has(p);
      const label = el('span', { class: p === state.selected ? 'selected' : '', 'data-path': p, onclick: () => select(p) }, name);
      const twist = el('span', { class: 'twist', onclick: () => toggle(p) }, open ? '▾' : '▸');
      const li = el('li', {}, twist, label);
      if (open) li.append(await branch(p));
      ul.append(li);
    }
    return ul;
  }
  const rootLabel = el('span', { class: state.selected === '/' ? 'selected' : '', 'data-path': '/', onclick: () => select('/') }, '/');
  pane.replaceChildren(el('ul', {}, el('li', {}, el('span', { class: 'twist' }, '▾'), rootLabel, await branch('/'))));
}

function toggle(p) {
  if (state.expanded.has(p)) state.expanded.delete(p);
  else state.expanded.add(p);
  void drawTree(document.getElementById('tree'));
}

function select(p) {
  state.selected = p;
  state.expanded.add(p);
  void drawTree(document.getElementById('tree'));
  void showNode(document.getElementById('node'), p);
}

async function showNode(pane, path) {
  let info;
  try {
    info = await api('node?path=' + encodeURIComponent(path));
  } catch (e) {
    pane.replaceChildren(el('h2', {}, path), el('p', { class: 'muted' }, e.message));
    return;
  }
  const bytes = b64ToBytes(info.data);
  const out = el('pre', { id: 'data' });
  const modes = { Text: () => asText(bytes), JSON: () => asJson(bytes), Hex: () => asHex(bytes) };
  const tabs = el('div', { class: 'tabs' });
  let mode = 'Text';
  const draw = () => {
    out.textContent = info.data === null ? '(null)' : modes[mode]() || '(empty)';
    for (const b of tabs.children) b.classList.toggle('active', b.textContent === mode);
  };
  for (const m of Object.keys(modes)) tabs.append(el('button', { onclick: () => ((mode = m), draw()) }, m));
  draw();
  const s = info.stat;
  const statRows = [
    ['czxid', '0x' + BigInt(s.czxid).toString(16)], ['mzxid', '0x' + BigInt(s.mzxid).toString(16)], ['pzxid', '0x' + BigInt(s.pzxid).toString(16)],
    ['ctime', when(s.ctime)], ['mtime', when(s.mtime)], ['version', s.version], ['cversion', s.cversion], ['aversion', s.aversion],
    ['ephemeralOwner', '0x' + BigInt(s.ephemeralOwner).toString(16)], ['dataLength', s.dataLength], ['numChildren', s.numChildren],
  ];
  const stat = el('table', { id: 'stat' }, statRows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { class: 'mono' }, v))));
  const acl = el('table', { id: 'acl' }, el('tr', {}, el('th', {}, 'scheme'), el('th', {}, 'id'), el('th', {}, 'perms')),
    info.acl.map((a) => el('tr', {}, el('td', {}, a.id.scheme), el('td', { class: 'mono' }, a.id.id), el('td', { class: 'mono' }, perms(a.perms)))));
  pane.replaceChildren(el('h2', { class: 'mono' }, path), tabs, out, el('h3', {}, 'Stat'), stat, el('h3', {}, 'ACL'), acl, editors(info, bytes));
}

function perms(p) {
  return [['r', 1], ['w', 2], ['c', 4], ['d', 8], ['a', 16]].map(([c, bit]) => (p & bit ? c : '-')).join('');
}

function editors(info, bytes) {
  if (!state.overview || !state.overview.edits) return el('p', { class: 'muted' }, 'Read-only console (edits are disabled).');
  const text = el('textarea', { id: 'edit-data' });
  text.value = info.data === null ? '' : asText(bytes);
  const save = el('button', { class: 'btn primary', id: 'save', onclick: async () => {
    try {
      await api('node', { method: 'PUT', body: { path: info.path, data: text.value, version: info.stat.version } });
      toast('saved ' + info.path);
      select(info.path);
    } catch (e) { toast(e.message, true); }
  } }, 'Save (version ' + info.stat.version + ')');
  const name = el('input', { id: 'new-name', placeholder: 'child name' });
  const kind = el('select', { id: 'new-mode' }, ['persistent', 'persistentSequential', 'container'].map((m) => el('option', { value: m }, m)));
  const create = el('button', { class: 'btn', id: 'create', onclick: async () => {
    try {
      const r = await api('node', { method: 'POST', body: { path: child(info.path, name.value), data: '', mode: kind.value } });
      toast('created ' + r.path);
      state.expanded.add(info.path);
      select(r.path);
    } catch (e) { toast(e.message, true); }
  } }, 'Create child');
  const del = el('button', { class: 'btn danger', id: 'delete', onclick: async () => {
    if (!confirm('Delete ' + info.path + ' (version ' + info.stat.version + ')?')) return;
    try {
      await api('node?path=' + encodeURIComponent(info.path) + '&version=' + info.stat.version, { method: 'DELETE' });
      toast('deleted ' + info.path);
      select(parentOf(info.path));
    } catch (e) { toast(e.message, true); }
  } }, 'Delete (version ' + info.stat.version + ')');
  return el('div', {}, el('h3', {}, 'Edit'), text, el('div', { class: 'row' }, save, del), el('div', { class: 'row' }, name, kind, create));
}

// ------------------------------------------------------------------ sessions

async function renderSessions() {
  const sessions = await api('sessions');
  const rows = sessions.map((s) => el('tr', {},
    el('td', { class: 'mono' }, s.id),
    el('td', {}, s.timeoutMs + ' ms'),
    el('td', { class: 'mono hide-narrow' }, s.client || el('span', { class: 'muted' }, 'not here')),
    el('td', { class: 'mono' }, s.ephemerals.length ? s.ephemerals.join('\n') : '–'),
    el('td', { class: 'mono' }, s.watches.length ? s.watches.join('\n') : '–')));
  main.replaceChildren(el('div', { class: 'panel' }, el('h2', {}, 'Sessions (' + sessions.length + ')'),
    el('table', { id: 'sessions' }, el('tr', {}, el('th', {}, 'session'), el('th', {}, 'timeout'), el('th', { class: 'hide-narrow' }, 'client'), el('th', {}, 'ephemerals'), el('th', {}, 'watches (this server)')), rows)));
}

// ------------------------------------------------------------------ ensemble

async function renderEnsemble() {
  const draw = async () => {
    const e = await api('ensemble');
    const rows = e.members.map((m) => el('tr', {},
      el('td', {}, m.id + (m.id === e.self ? ' (this)' : '')),
      el('td', { class: 'mono hide-narrow' }, m.host + ':' + (m.clientPort ?? '?')),
      el('td', {}, el('span', { class: 'pill ' + m.mode }, m.mode)),
      el('td', { class: 'mono' }, m.zxid ?? '–'),
      el('td', {}, m.lag === null ? '–' : String(m.lag)),
      el('td', { class: 'hide-narrow' }, m.connections ?? '–')));
    const history = e.leaderHistory.slice().reverse().map((h) => el('tr', {}, el('td', {}, when(h.at)), el('td', {}, h.leader === null ? 'none' : 'server ' + h.leader), el('td', {}, 'epoch ' + h.epoch)));
    main.replaceChildren(el('div', { class: 'panel' },
      el('h2', {}, 'Ensemble'),
      el('table', { id: 'members' }, el('tr', {}, el('th', {}, 'id'), el('th', { class: 'hide-narrow' }, 'client address'), el('th', {}, 'role'), el('th', {}, 'zxid'), el('th', {}, 'lag (txns)'), el('th', { class: 'hide-narrow' }, 'connections')), rows),
      el('h3', {}, 'Leader history (seen by this console)'),
      el('table', { id: 'leaders' }, history)));
  };
  await draw();
  const t = setInterval(() => void draw().catch((e) => toast(e.message, true)), 2000);
  state.cleanup.push(() => clearInterval(t));
}

// ------------------------------------------------------------------ metrics

const CHARTS = [
  ['packets_received', 'requests / s', true], ['avg_latency', 'avg latency (ms)', false], ['outstanding_requests', 'outstanding', false],
  ['num_alive_connections', 'connections', false], ['znode_count', 'znodes', false], ['watch_count', 'watches', false],
];

function renderMetrics() {
  const samples = [];
  const cards = CHARTS.map(([key, title]) => {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 300 100');
    svg.setAttribute('preserveAspectRatio', 'none');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', '#2f6feb');
    line.setAttribute('stroke-width', '2');
    svg.append(line);
    const value = el('div', { class: 'value' }, '–');
    return { key, line, value, node: el('div', { class: 'panel chart', 'data-metric': key }, el('div', { class: 'muted' }, title), value, svg) };
  });
  main.replaceChildren(el('h2', {}, 'Metrics (this server, mntr every second)'), el('div', { class: 'grid', id: 'charts' }, cards.map((c) => c.node)));
  const series = (key, rate) => samples.map((s, i) => {
    const v = Number(s.values[key]);
    if (!rate) return v;
    if (i === 0) return 0;
    const dt = (s.at - samples[i - 1].at) / 1000;
    return dt > 0 ? Math.max(0, (v - Number(samples[i - 1].values[key])) / dt) : 0;
  });
  const draw = () => {
    for (const [i, [key, , rate]] of CHARTS.entries()) {
      const ys = series(key, rate).slice(-120);
      const max = Math.max(1, ...ys);
      const pts = ys.map((y, x) => (x * 300) / Math.max(1, ys.length - 1) + ',' + (98 - (y / max) * 94)).join(' ');
      cards[i].line.setAttribute('points', pts);
      cards[i].value.textContent = ys.length ? (Math.round(ys[ys.length - 1] * 100) / 100).toString() : '–';
    }
  };
  const es = new EventSource('api/metrics');
  es.onmessage = (m) => {
    samples.push(JSON.parse(m.data));
    if (samples.length > 300) samples.shift();
    draw();
  };
  state.cleanup.push(() => es.close());
}

// ------------------------------------------------------------------ events

function renderEvents() {
  const input = el('input', { id: 'events-path', value: state.eventsPath || '/', size: 30 });
  const list = el('tbody');
  let es;
  const start = () => {
    if (es) es.close();
    list.replaceChildren();
    state.eventsPath = input.value;
    es = new EventSource('api/events?path=' + encodeURIComponent(input.value));
    es.addEventListener('ready', () => toast('watching ' + input.value));
    es.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      list.prepend(el('tr', {}, el('td', {}, when(ev.at).slice(11)), el('td', {}, ev.type === 'none' ? ev.state : ev.type), el('td', { class: 'mono' }, ev.path), el('td', { class: 'mono hide-narrow' }, ev.zxid ? '0x' + BigInt(ev.zxid).toString(16) : '')));
      while (list.children.length > 500) list.lastChild.remove();
    };
  };
  main.replaceChildren(el('div', { class: 'panel' }, el('h2', {}, 'Live events'),
    el('div', { class: 'row' }, input, el('button', { class: 'btn primary', id: 'events-start', onclick: start }, 'Watch subtree')),
    el('div', { class: 'events' }, el('table', { id: 'events' }, el('thead', {}, el('tr', {}, el('th', {}, 'time'), el('th', {}, 'event'), el('th', {}, 'path'), el('th', { class: 'hide-narrow' }, 'zxid'))), list))));
  start();
  state.cleanup.push(() => es && es.close());
}

// ------------------------------------------------------------------ shell

const VIEWS = { tree: renderTree, sessions: renderSessions, ensemble: renderEnsemble, metrics: renderMetrics, events: renderEvents };

async function route() {
  for (const f of state.cleanup.splice(0)) f();
  const view = (location.hash.slice(1) || 'tree').split('?')[0];
  state.view = VIEWS[view] ? view : 'tree';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === state.view);
  try {
    await VIEWS[state.view]();
    document.body.dataset.ready = state.view;
  } catch (e) {
    main.replaceChildren(el('p', { class: 'muted' }, e.message));
    document.body.dataset.ready = state.view;
  }
}

async function refreshOverview() {
  try {
    const o = await api('overview');
    state.overview = o;
    document.getElementById('status').textContent = 'server ' + o.myid + ' · ' + o.mode + ' · zxid ' + o.zxid + ' · ' + o.znodes + ' znodes · ' + o.connections + ' connections' + (o.user ? ' · ' + o.user : '');
  } catch (e) {
    document.getElementById('status').textContent = 'unreachable: ' + e.message;
  }
}

window.addEventListener('hashchange', () => void route());
void refreshOverview().then(route);
setInterval(() => void refreshOverview(), 3000);
