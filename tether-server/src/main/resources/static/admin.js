// The admin dashboard: polls GET /api/stats every second; rates are differences of two readings.
// Exposes window.tetherAdmin (samples, last stats) for tests.

const POLL_INTERVAL_MS = 1000;
// The chart spans the readings so far, at least MIN and at most MAX seconds.
const CHART_MIN_WINDOW_S = 30;
const CHART_MAX_WINDOW_S = 120;
const KEY_STORAGE = 'tether-admin:key';

// docs/protocol.md section 12 plus the plain WebSocket closes of section A: the server's own closes.
const CLOSE_CODES = {
  1003: ['binary frame', false], 1007: ['invalid UTF-8', false], 1009: ['frame too large', false],
  4000: ['server shutting down', true], 4001: ['no pong in time', true], 4002: ['slow consumer', true],
  4003: ['overloaded', true], 4004: ['no connect in time', true], 4500: ['protocol violation', false],
  4501: ['unauthorized', false], 4502: ['session taken over', false], 4503: ['forbidden', false],
};

const $ = (sel) => document.querySelector(sel);
const admin = {stats: null, samples: [], error: null};
window.tetherAdmin = admin;

let previous = null;  // {uptimeMs, counters} of the last reading

async function poll() {
  try {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const res = await fetch('api/stats', {cache: 'no-store', headers: key ? {Authorization: `Bearer ${key}`} : {}});
    if (res.status === 401) {
      askKey(key ? 'that key was refused' : '');
      setLive('error', 'API key needed');
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    $('[data-testid="api-key-panel"]').hidden = true;
    take(await res.json());
    admin.error = null;
    setLive('ok', 'live');
  } catch (err) {
    admin.error = String(err.message ?? err);
    setLive('error', `cannot reach the server (${admin.error})`);
  } finally {
    setTimeout(poll, POLL_INTERVAL_MS);
  }
}

function take(s) {
  admin.stats = s;
  const c = s.counters;
  if (previous && s.uptimeMs > previous.uptimeMs) {
    const dt = (s.uptimeMs - previous.uptimeMs) / 1000;
    const rate = (name) => Math.max(0, (c[name] - previous.counters[name]) / dt);
    admin.samples.push({t: s.uptimeMs, pubs: rate('publications'), deliveries: rate('deliveries'),
      acks: rate('acks'), bytesIn: rate('bytesIn'), bytesOut: rate('bytesOut')});
    while (admin.samples.length && admin.samples[0].t < s.uptimeMs - CHART_MAX_WINDOW_S * 1000) admin.samples.shift();
  } else if (previous) {
    admin.samples = [];  // the server restarted: counters started over
  }
  previous = {uptimeMs: s.uptimeMs, counters: {...c}};
  render(s, admin.samples.at(-1));
}

function render(s, rate) {
  text('node', `node ${s.node}`);
  text('stat-connections', fmt(s.connections));
  text('stat-uptime', `up ${duration(s.uptimeMs)}`);
  text('stat-sessions', fmt(s.sessions));
  text('stat-sessions-detached', `${fmt(s.sessionsDetached)} detached, awaiting resume`);
  text('stat-subscriptions', fmt(s.subscriptions));
  text('stat-channel-count', `${fmt(s.channels.length)} channel${s.channels.length === 1 ? '' : 's'}`);
  text('stat-pubs-rate', rate ? fmtRate(rate.pubs) : '–');
  text('stat-pubs-total', `${fmt(s.counters.publications)} total`);
  text('stat-deliveries-rate', rate ? fmtRate(rate.deliveries) : '–');
  text('stat-deliveries-total', `${fmt(s.counters.deliveries)} total`);
  text('stat-slow', fmt(s.counters.slowConsumerEvents));
  $('[data-testid="card-slow"]').dataset.nonzero = String(s.counters.slowConsumerEvents > 0);
  text('stat-resumes', fmt(s.counters.resumes));
  text('stat-recoveries', `recoveries ${fmt(s.counters.recoveriesOk)} ok · ${fmt(s.counters.recoveriesFailed)} with gap`);
  text('stat-bytes-in', rate ? bytes(rate.bytesIn) : '–');
  text('stat-bytes-out', rate ? bytes(rate.bytesOut) : '–');
  text('stat-acks', rate ? fmtRate(rate.acks) : '–');
  renderChannels(s.channels);
  renderDisconnects(s.disconnects ?? {});
  drawChart($('[data-testid="rate-chart"]'), admin.samples);
}

function renderChannels(channels) {
  const body = $('[data-testid="channel-table"] tbody');
  const sorted = [...channels].sort((a, b) => b.subscribers - a.subscribers || a.channel.localeCompare(b.channel));
  const most = Math.max(1, ...sorted.map((c) => c.subscribers));
  body.replaceChildren(...sorted.map((c) => {
    const tr = row([c.channel, fmt(c.subscribers), fmt(c.offset)], [false, true, true]);
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(100 * c.subscribers) / most}%`;
    tr.insertCell().append(bar);
    tr.dataset.testid = 'channel-row';
    tr.dataset.channel = c.channel;
    return tr;
  }));
  if (!sorted.length) body.append(emptyRow(4, 'no active channels'));
}

function renderDisconnects(disconnects) {
  const body = $('[data-testid="disconnect-table"] tbody');
  const codes = Object.keys(disconnects).sort((a, b) => Number(a) - Number(b));
  body.replaceChildren(...codes.map((code) => {
    const [meaning, again] = CLOSE_CODES[code] ?? ['', Number(code) < 4500];
    const tr = row([code, meaning, ''], [false, false, false]);
    const tag = document.createElement('span');
    tag.className = `tag${again ? '' : ' no'}`;
    tag.textContent = again ? 'yes' : 'no';
    tr.cells[2].append(tag);
    const n = tr.insertCell();
    n.className = 'num';
    n.textContent = fmt(disconnects[code]);
    tr.dataset.testid = 'disconnect-row';
    tr.dataset.code = code;
    return tr;
  }));
  if (!codes.length) body.append(emptyRow(4, 'no disconnects yet'));
}

/** Two lines, publications/s and deliveries/s, over the last minutes. */
function drawChart(canvas, samples) {
  const span = samples.length ? (samples.at(-1).t - samples[0].t) / 1000 : 0;
  const windowS = Math.min(CHART_MAX_WINDOW_S, Math.max(CHART_MIN_WINDOW_S, Math.ceil(span / 10) * 10));
  text('chart-window', windowS >= 60 && windowS % 60 === 0 ? `${windowS / 60} minute${windowS === 60 ? '' : 's'}` : `${windowS} seconds`);
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const pad = {left: 48, right: 12, top: 10, bottom: 22};
  const plotW = w - pad.left - pad.right;
  const plotH = h - pad.top - pad.bottom;
  const step = niceStep(Math.max(4, ...samples.map((s) => Math.max(s.pubs, s.deliveries))) / 4);
  const top = step * 4;
  const now = samples.at(-1)?.t ?? 0;
  const x = (t) => pad.left + plotW * (1 - (now - t) / (windowS * 1000));
  const y = (v) => pad.top + plotH * (1 - v / top);

  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  g.strokeStyle = color('--line');
  g.fillStyle = color('--muted');
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const v = step * i;
    g.beginPath();
    g.moveTo(pad.left, Math.round(y(v)) + 0.5);
    g.lineTo(w - pad.right, Math.round(y(v)) + 0.5);
    g.stroke();
    g.fillText(compact(v), pad.left - 8, y(v));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const labelEvery = windowS > 60 ? 30 : 10;
  for (let s = 0; s <= windowS; s += labelEvery) {
    g.fillText(s === 0 ? 'now' : `-${s}s`, pad.left + plotW * (1 - s / windowS), h - pad.bottom + 6);
  }
  if (samples.length < 2) {
    g.fillText('collecting…', pad.left + plotW / 2, pad.top + plotH / 2);
    return;
  }
  for (const [field, name] of [['deliveries', '--deliv'], ['pubs', '--pubs']]) {
    const stroke = color(name);
    g.beginPath();
    samples.forEach((s, i) => (i ? g.lineTo(x(s.t), y(s[field])) : g.moveTo(x(s.t), y(s[field]))));
    g.strokeStyle = stroke;
    g.lineWidth = 2;
    g.lineJoin = 'round';
    g.stroke();
    g.lineTo(x(now), y(0));
    g.lineTo(x(samples[0].t), y(0));
    g.closePath();
    g.globalAlpha = 0.1;
    g.fillStyle = stroke;
    g.fill();
    g.globalAlpha = 1;
  }
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least v. */
function niceStep(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((n) => n >= v);
}

function askKey(message) {
  $('[data-testid="api-key-panel"]').hidden = false;
  $('[data-testid="api-key-error"]').textContent = message;
}

$('[data-testid="api-key-form"]').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('[data-testid="api-key-input"]').value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  $('[data-testid="api-key-error"]').textContent = 'checking…';
});

function setLive(state, label) {
  const live = $('[data-testid="poll-status"]');
  live.dataset.state = state;
  live.querySelector('.text').textContent = label;
}

function row(values, numeric) {
  const tr = document.createElement('tr');
  values.forEach((v, i) => {
    const td = tr.insertCell();
    td.textContent = v;
    if (numeric[i]) td.className = 'num';
  });
  return tr;
}

function emptyRow(span, message) {
  const tr = document.createElement('tr');
  const td = tr.insertCell();
  td.colSpan = span;
  td.className = 'empty';
  td.textContent = message;
  return tr;
}

function text(testid, value) {
  $(`[data-testid="${testid}"]`).textContent = value;
}

const fmt = (n) => Number(n ?? 0).toLocaleString('en-US');
const fmtRate = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const compact = (n) => (n >= 1000 ? `${+(n / 1000).toFixed(1)}k` : String(+n.toFixed(2)));

function bytes(n) {
  if (n < 1024) return `${n.toFixed(0)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

window.addEventListener('resize', () => drawChart($('[data-testid="rate-chart"]'), admin.samples));
poll();
