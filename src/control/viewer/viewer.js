// TessDS viewer: draws the network from lane shapes, vehicles from the binary WebSocket stream
// (src/control/backend.ts encodeFrame), the workers, the timeline and three charts; sends commands.
// Plain ES module, no build step, no external resources.

const $ = (id) => document.getElementById(id);
const canvas = $('map');
const ctx = canvas.getContext('2d');
const PART_COLORS = [
  '#58a6ff',
  '#f0883e',
  '#3fb950',
  '#d2a8ff',
  '#ff7b72',
  '#e3b341',
  '#39c5cf',
  '#db61a2',
  '#a5d6ff',
  '#8b949e',
];
const BACKGROUND = '#15181c';
const FRAME_MAGIC = 0x31465354;
const FRAME_HEADER_BYTES = 40;

/** What the page knows; exposed as window.tessds for tests and for poking around in the console. */
const state = {
  network: null,
  frame: null,
  frames: 0,
  status: null,
  closed: new Set(),
  colorBy: 'speed',
  view: { cx: 0, cy: 0, scale: 1 },
  history: { running: [], speed: [], ups: [] },
  worldToScreen,
  screenToWorld,
};
window.tessds = state;

// ---- view transform (y up in the world, down on the screen) ----

function worldToScreen(x, y) {
  const v = state.view;
  return [(x - v.cx) * v.scale + canvas.width / 2, canvas.height / 2 - (y - v.cy) * v.scale];
}

function screenToWorld(sx, sy) {
  const v = state.view;
  return [(sx - canvas.width / 2) / v.scale + v.cx, (canvas.height / 2 - sy) / v.scale + v.cy];
}

function fit() {
  if (!state.network) return;
  const [x0, y0, x1, y1] = state.network.bounds;
  const w = Math.max(x1 - x0, 1);
  const h = Math.max(y1 - y0, 1);
  state.view.cx = (x0 + x1) / 2;
  state.view.cy = (y0 + y1) / 2;
  state.view.scale = Math.min(canvas.width / w, canvas.height / h) * 0.92;
  viewChanged();
}

function resize() {
  const r = canvas.getBoundingClientRect();
  canvas.width = Math.max(1, Math.round(r.width));
  canvas.height = Math.max(1, Math.round(r.height));
  viewChanged();
}

// ---- network layer, cached in an offscreen canvas until the view changes ----

const netLayer = document.createElement('canvas');
let netDirty = true;

function viewChanged() {
  netDirty = true;
  sendViewport();
}

function drawNetwork() {
  netLayer.width = canvas.width;
  netLayer.height = canvas.height;
  const g = netLayer.getContext('2d');
  g.fillStyle = BACKGROUND;
  g.fillRect(0, 0, netLayer.width, netLayer.height);
  if (!state.network) return;
  g.lineCap = 'butt';
  g.lineJoin = 'round';
  for (const internal of [true, false]) {
    for (const lane of state.network.lanes) {
      if (lane.internal !== internal) continue;
      const s = lane.shape;
      if (s.length < 4) continue;
      let color = internal ? '#30353c' : '#4a515b';
      if (state.colorBy === 'part' && state.network.parts > 1)
        color = shade(PART_COLORS[lane.part % PART_COLORS.length], internal ? 0.25 : 0.4);
      if (state.closed.has(lane.id)) color = '#8b1e9e'; // purple: no vehicle colour is near it
      g.strokeStyle = color;
      g.lineWidth = Math.max(1, lane.width * state.view.scale * (internal ? 0.8 : 0.9));
      g.beginPath();
      for (let k = 0; k < s.length; k += 2) {
        const [x, y] = worldToScreen(s[k], s[k + 1]);
        if (k === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      }
      g.stroke();
    }
  }
  netDirty = false;
}

function shade(hex, f) {
  const n = parseInt(hex.slice(1), 16);
  const c = (v) => Math.round(v * f + 0x15 * (1 - f));
  return `rgb(${c((n >> 16) & 255)},${c((n >> 8) & 255)},${c(n & 255)})`;
}

// ---- vehicles ----

function speedColor(v, vmax) {
  const t = Math.max(0, Math.min(1, v / vmax));
  // red (stopped) → yellow → green (free flow)
  const hue = 120 * t;
  return `hsl(${hue.toFixed(0)},85%,55%)`;
}

function draw() {
  if (netDirty) drawNetwork();
  ctx.drawImage(netLayer, 0, 0);
  const f = state.frame;
  if (f) {
    const len = Math.max(4, 5 * state.view.scale);
    const wid = Math.max(2.5, 1.9 * state.view.scale);
    for (let i = 0; i < f.count; i++) {
      const [x, y] = worldToScreen(f.x[i], f.y[i]);
      if (x < -len || y < -len || x > canvas.width + len || y > canvas.height + len) continue;
      ctx.fillStyle =
        state.colorBy === 'part' ? PART_COLORS[f.part[i] % PART_COLORS.length] : speedColor(f.speed[i], 14);
      ctx.save();
      ctx.translate(x, y);
      ctx.rotate(-f.angle[i]);
      ctx.fillRect(-len, -wid / 2, len, wid); // x, y is the front bumper
      ctx.restore();
    }
  }
  requestAnimationFrame(draw);
}

// ---- the token ----

// The control API's bearer token, when the server has one (TESSDS_TOKEN): asked for once, at the
// first 401, and kept in this page only (not in storage, not in the URL).
let token = null;

function askToken(wrong) {
  const t = window.prompt(
    wrong
      ? 'That token was refused. The token of this TessDS run:'
      : 'This TessDS run needs its token (TESSDS_TOKEN of the server):',
  );
  token = t && t.trim() ? t.trim() : null;
  return token;
}

/** fetch with the token; a 401 asks for it (again, if the one given was wrong) and retries. */
async function api(path, init = {}) {
  for (;;) {
    const used = token;
    const r = await fetch(path, {
      ...init,
      headers: { ...(init.headers ?? {}), ...(used ? { authorization: `Bearer ${used}` } : {}) },
    });
    if (r.status !== 401) return r;
    if (token !== used) continue; // another request got the token meanwhile
    if (!askToken(used !== null)) return r;
  }
}

// ---- the stream ----

let ws = null;
let viewportTimer = 0;

function sendViewport() {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  clearTimeout(viewportTimer);
  viewportTimer = setTimeout(() => {
    const [x0, y1] = screenToWorld(0, 0);
    const [x1, y0] = screenToWorld(canvas.width, canvas.height);
    const m = 10; // m of margin so vehicles entering the view are not cut off
    ws.send(JSON.stringify({ viewport: [x0 - m, y0 - m, x1 + m, y1 + m] }));
  }, 50);
}

function decodeFrame(buf) {
  const dv = new DataView(buf);
  if (buf.byteLength < FRAME_HEADER_BYTES || dv.getUint32(0, true) !== FRAME_MAGIC)
    throw new Error('not a TessDS frame');
  const n = dv.getUint32(20, true);
  let off = FRAME_HEADER_BYTES;
  const f32 = () => {
    const a = new Float32Array(buf, off, n);
    off += n * 4;
    return a;
  };
  const x = f32(),
    y = f32(),
    angle = f32(),
    speed = f32();
  return {
    step: dv.getUint32(4, true),
    time: dv.getFloat64(8, true),
    running: dv.getUint32(16, true),
    count: n,
    meanSpeed: dv.getFloat32(24, true),
    ups: dv.getFloat32(28, true),
    x,
    y,
    angle,
    speed,
    part: new Uint16Array(buf, off, n),
  };
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}/api/stream`);
  ws.binaryType = 'arraybuffer';
  // a browser cannot set headers on a WebSocket: the token goes as the first message
  ws.onopen = () => {
    if (token) ws.send(JSON.stringify({ token }));
    sendViewport();
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') {
      const m = JSON.parse(ev.data);
      if (m.error) say(m.error);
      return;
    }
    state.frame = decodeFrame(ev.data);
    state.frames++;
    showFrame(state.frame);
  };
  ws.onclose = (ev) => {
    if (ev.code === 4401 && !askToken(token !== null)) return say('no token: the stream is off');
    setTimeout(connect, ev.code === 4401 ? 0 : 1000);
  };
}

// ---- stats and charts ----

let lastSample = 0;

function showFrame(f) {
  $('s-step').textContent = f.step;
  $('s-time').textContent = `${f.time.toFixed(1)} s`;
  $('s-running').textContent = f.running;
  $('s-speed').textContent = `${f.meanSpeed.toFixed(2)} m/s`;
  $('s-ups').textContent = f.ups >= 1e6 ? `${(f.ups / 1e6).toFixed(2)}M` : `${(f.ups / 1e3).toFixed(1)}k`;
  const now = performance.now();
  if (now - lastSample < 500) return;
  lastSample = now;
  const h = state.history;
  for (const [k, v] of [
    ['running', f.running],
    ['speed', f.meanSpeed],
    ['ups', f.ups],
  ]) {
    h[k].push(v);
    if (h[k].length > 240) h[k].shift();
  }
  chart($('c-running'), h.running, '#58a6ff');
  chart($('c-speed'), h.speed, '#3fb950');
  chart($('c-ups'), h.ups, '#f0883e');
}

function chart(c, values, color) {
  const g = c.getContext('2d');
  g.fillStyle = BACKGROUND;
  g.fillRect(0, 0, c.width, c.height);
  if (values.length < 2) return;
  const max = Math.max(...values, 1e-9);
  g.strokeStyle = color;
  g.lineWidth = 1.5;
  g.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * (c.width - 2) + 1;
    const y = c.height - 12 - (v / max) * (c.height - 16);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = '#9aa4af';
  g.font = '10px system-ui';
  const last = values[values.length - 1];
  g.fillText(`max ${fmt(max)}   now ${fmt(last)}`, 4, c.height - 2);
}

const fmt = (v) => (Math.abs(v) >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

// ---- status, workers, timeline ----

async function poll() {
  try {
    const s = await (await api('/api/status')).json();
    state.status = s;
    const paused = s.paused === true;
    const b = $('pause');
    b.textContent = paused ? 'Resume' : 'Pause';
    b.classList.toggle('paused', paused);
    $('s-state').textContent = paused ? 'paused' : s.state;
    syncSpeed(s.realtimeFactor);
    if (Array.isArray(s.closedLanes)) {
      const before = state.closed.size;
      state.closed = new Set(s.closedLanes);
      if (before !== state.closed.size) netDirty = true;
    }
    const tbody = $('workers').querySelector('tbody');
    tbody.replaceChildren(
      ...(s.workers ?? []).map((w) => {
        const tr = document.createElement('tr');
        const lag = s.step !== undefined && w.step !== undefined ? Math.max(0, maxStep(s) - w.step) : '';
        const hb = w.heartbeatAgeMs !== undefined ? `${(w.heartbeatAgeMs / 1000).toFixed(1)} s` : '';
        for (const [text, cls] of [[w.id], [w.state, w.state], [(w.parts ?? []).join(',')], [w.step], [lag], [hb]]) {
          const td = document.createElement('td');
          td.textContent = text ?? '';
          if (cls) td.className = cls;
          tr.append(td);
        }
        return tr;
      }),
    );
    const events = await (await api('/api/timeline')).json();
    showTimeline(events);
  } catch (e) {
    $('s-state').textContent = 'no connection';
  }
}

/** Shows the run's realtime factor in the speed menu (adding an entry for a factor it lacks). */
function syncSpeed(factor) {
  const sel = $('speed');
  if (factor === undefined || document.activeElement === sel) return;
  const value = factor === null ? 'max' : String(factor);
  if (![...sel.options].some((o) => o.value === value)) sel.add(new Option(`${value}×`, value));
  sel.value = value;
}

const maxStep = (s) => Math.max(s.step, ...(s.workers ?? []).map((w) => w.step ?? 0));

let shownEvents = -1;
function showTimeline(events) {
  if (events.length === shownEvents) return;
  shownEvents = events.length;
  const ol = $('timeline');
  ol.replaceChildren(
    ...events
      .slice(-200)
      .reverse()
      .map((e) => {
        const li = document.createElement('li');
        li.className = e.type;
        const t = document.createElement('span');
        t.className = 't';
        t.textContent = new Date(e.at).toLocaleTimeString();
        li.append(
          t,
          `${e.type}${e.worker !== undefined ? ` worker ${e.worker}` : ''}${e.step !== undefined ? ` @${e.step}` : ''}${e.detail ? ` ${e.detail}` : ''}`,
        );
        return li;
      }),
  );
}

// ---- commands ----

function say(text) {
  $('message').textContent = text;
}

async function command(body) {
  const r = await api('/api/commands', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await r.json();
  if (r.status >= 300) say(`${body.type}: ${answer.error}`);
  else say(`${answer.type} accepted (#${answer.id}, step ${answer.effectiveStep})`);
  return { status: r.status, answer };
}

$('pause').onclick = async () => {
  const paused = state.status?.paused === true;
  await command({ type: paused ? 'resume' : 'pause' });
  await poll();
};
$('speed').onchange = (ev) =>
  command({ type: 'setRealtimeFactor', factor: ev.target.value === 'max' ? null : Number(ev.target.value) });
$('color').onchange = (ev) => {
  state.colorBy = ev.target.value;
  netDirty = true;
};
$('fit').onclick = fit;

/** The normal lane nearest to a screen point, within a few pixels of its drawn edge, or null. */
function laneAt(sx, sy) {
  if (!state.network) return null;
  let best = null;
  let bestD = Infinity;
  for (const lane of state.network.lanes) {
    if (lane.internal) continue;
    const s = lane.shape;
    for (let k = 0; k + 3 < s.length; k += 2) {
      const [ax, ay] = worldToScreen(s[k], s[k + 1]);
      const [bx, by] = worldToScreen(s[k + 2], s[k + 3]);
      const dx = bx - ax,
        dy = by - ay;
      const l2 = dx * dx + dy * dy;
      const t = l2 > 0 ? Math.max(0, Math.min(1, ((sx - ax) * dx + (sy - ay) * dy) / l2)) : 0;
      const d = Math.hypot(sx - (ax + t * dx), sy - (ay + t * dy));
      const tolerance = Math.max(4, (lane.width * state.view.scale) / 2);
      if (d <= tolerance && d < bestD) {
        bestD = d;
        best = lane;
      }
    }
  }
  return best;
}

async function toggleLane(lane) {
  const closing = !state.closed.has(lane.id);
  const { status } = await command({ type: closing ? 'closeLane' : 'openLane', lane: lane.id });
  if (status < 300) {
    if (closing) state.closed.add(lane.id);
    else state.closed.delete(lane.id);
    netDirty = true;
  }
}

// ---- pan, zoom, click ----

let drag = null;
canvas.addEventListener('mousedown', (ev) => {
  drag = { x: ev.offsetX, y: ev.offsetY, cx: state.view.cx, cy: state.view.cy, moved: false };
});
window.addEventListener('mousemove', (ev) => {
  if (!drag) return;
  const r = canvas.getBoundingClientRect();
  const dx = ev.clientX - r.left - drag.x;
  const dy = ev.clientY - r.top - drag.y;
  if (!drag.moved && Math.hypot(dx, dy) < 4) return;
  drag.moved = true;
  canvas.classList.add('dragging');
  state.view.cx = drag.cx - dx / state.view.scale;
  state.view.cy = drag.cy + dy / state.view.scale;
  viewChanged();
});
window.addEventListener('mouseup', (ev) => {
  if (!drag) return;
  const wasClick = !drag.moved;
  const { x, y } = drag;
  drag = null;
  canvas.classList.remove('dragging');
  if (wasClick && ev.target === canvas) {
    const lane = laneAt(x, y);
    if (lane) void toggleLane(lane);
  }
});
canvas.addEventListener(
  'wheel',
  (ev) => {
    ev.preventDefault();
    const [wx, wy] = screenToWorld(ev.offsetX, ev.offsetY);
    const k = Math.exp(-ev.deltaY * 0.0015);
    state.view.scale *= k;
    // keep the world point under the cursor where it is
    const [nx, ny] = screenToWorld(ev.offsetX, ev.offsetY);
    state.view.cx += wx - nx;
    state.view.cy += wy - ny;
    viewChanged();
  },
  { passive: false },
);
window.addEventListener('resize', resize);

// ---- start ----

async function start() {
  resize();
  state.network = await (await api('/api/network')).json();
  fit();
  connect();
  await poll();
  setInterval(poll, 1000);
  requestAnimationFrame(draw);
}

start().catch((e) => say(`viewer failed: ${e.message}`));
