import { ViewerMsgFlag, ViewerMsgHeader, ViewerMsgKind, VIEWER_PROTOCOL_VERSION } from './viewer-protocol.js';

/**
 * The viewer page: one self-contained HTML document (inline CSS and JS, no external assets) so it
 * works offline and under a strict CSP. The protocol constants are spliced in from
 * viewer-protocol.ts so page and server cannot drift apart.
 *
 * `window.__viewer` exposes counters and elements for tests and for poking at it from devtools.
 */
export function viewerPageHtml(title = 'virtio-gpu viewer'): string {
  const consts = JSON.stringify({
    H: ViewerMsgHeader,
    KIND: ViewerMsgKind,
    FLAG: ViewerMsgFlag,
    VERSION: VIEWER_PROTOCOL_VERSION,
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  :root { color-scheme: dark; --bg: #16181c; --panel: #22252b; --fg: #d8dce3; --dim: #8b93a1; --accent: #5fb3ff; }
  * { box-sizing: border-box; }
  html, body { margin: 0; height: 100%; background: var(--bg); color: var(--fg); font: 13px/1.4 system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  header { display: flex; align-items: center; gap: 12px; padding: 6px 12px; background: var(--panel); border-bottom: 1px solid #000; flex: none; }
  header h1 { font-size: 14px; font-weight: 600; margin: 0; }
  #status { color: var(--dim); }
  #status.on { color: #7bd88f; }
  #status.off { color: #ff7b72; }
  .spacer { flex: 1; }
  .zoom { display: flex; }
  .zoom button { background: #2d313a; color: var(--fg); border: 1px solid #3c414c; padding: 3px 10px; font: inherit; cursor: pointer; }
  .zoom button:first-child { border-radius: 4px 0 0 4px; }
  .zoom button:last-child { border-radius: 0 4px 4px 0; }
  .zoom button + button { border-left: none; }
  .zoom button.active { background: var(--accent); color: #000; border-color: var(--accent); }
  #fps { font-variant-numeric: tabular-nums; min-width: 60px; text-align: right; color: var(--accent); }
  main { flex: 1; overflow: auto; display: flex; flex-wrap: nowrap; align-items: flex-start; gap: 16px; padding: 16px; }
  #empty { color: var(--dim); margin: auto; }
  figure { margin: 0; flex: none; }
  figcaption { color: var(--dim); margin-bottom: 4px; font-variant-numeric: tabular-nums; }
  figcaption b { color: var(--fg); font-weight: 600; }
  .stage { position: relative; overflow: hidden; background: #000; outline: 1px solid #3c414c; }
  .stage canvas { position: absolute; left: 0; top: 0; image-rendering: pixelated; }
  canvas.fb { width: 100%; height: 100%; }
  canvas.cursor { pointer-events: none; }
</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  <span id="status">connecting…</span>
  <span class="spacer"></span>
  <div class="zoom" role="group" aria-label="Zoom">
    <button type="button" data-zoom="fit">Fit</button><button type="button" data-zoom="1">1x</button><button type="button" data-zoom="2">2x</button>
  </div>
  <span id="fps" title="frames per second of the busiest scanout">0 fps</span>
</header>
<main id="screens"><div id="empty">No scanouts</div></main>
<script>
"use strict";
(() => {
  const P = ${consts};
  const screensEl = document.getElementById('screens');
  const emptyEl = document.getElementById('empty');
  const statusEl = document.getElementById('status');
  const fpsEl = document.getElementById('fps');
  const params = new URLSearchParams(location.search);
  const state = {
    connected: false, hello: null, frames: 0, messages: 0, fps: 0,
    zoom: ['fit', '1', '2'].includes(params.get('zoom')) ? params.get('zoom') : 'fit',
    scanouts: new Map(), // id -> { w, h, fig, stage, canvas, ctx, caption }
    cursor: { scanoutId: 0, x: 0, y: 0, hotX: 0, hotY: 0, visible: false },
    cursorCanvas: null,
  };
  window.__viewer = state;

  const cursorCanvas = document.createElement('canvas');
  cursorCanvas.className = 'cursor';
  cursorCanvas.width = 64; cursorCanvas.height = 64;
  cursorCanvas.style.display = 'none';
  state.cursorCanvas = cursorCanvas;
  const cursorCtx = cursorCanvas.getContext('2d');

  function setStatus(text, cls) { statusEl.textContent = text; statusEl.className = cls; }

  function scale() {
    if (state.zoom !== 'fit') return Number(state.zoom);
    const list = [...state.scanouts.values()];
    if (list.length === 0) return 1;
    const cs = getComputedStyle(screensEl);
    const gap = parseFloat(cs.columnGap) || 0;
    const availW = screensEl.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - gap * (list.length - 1);
    const availH = screensEl.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom) - 24;
    const sumW = list.reduce((a, s) => a + s.w, 0);
    const maxH = list.reduce((a, s) => Math.max(a, s.h), 0);
    return Math.max(0.05, Math.min(availW / sumW, availH / maxH));
  }

  function layout() {
    const k = scale();
    for (const s of state.scanouts.values()) {
      s.stage.style.width = s.w * k + 'px';
      s.stage.style.height = s.h * k + 'px';
    }
    cursorCanvas.style.width = cursorCanvas.style.height = 64 * k + 'px';
    placeCursor();
    for (const b of document.querySelectorAll('.zoom button')) b.classList.toggle('active', b.dataset.zoom === state.zoom);
    emptyEl.style.display = state.scanouts.size === 0 ? '' : 'none';
  }

  function placeCursor() {
    const c = state.cursor;
    const s = state.scanouts.get(c.scanoutId);
    if (!s || !c.visible) { cursorCanvas.style.display = 'none'; return; }
    if (cursorCanvas.parentNode !== s.stage) s.stage.appendChild(cursorCanvas);
    const k = scale();
    cursorCanvas.style.left = (c.x - c.hotX) * k + 'px';
    cursorCanvas.style.top = (c.y - c.hotY) * k + 'px';
    cursorCanvas.style.display = '';
  }

  function setScanout(id, w, h) {
    let s = state.scanouts.get(id);
    if (w === 0 || h === 0) {
      if (s) { s.fig.remove(); state.scanouts.delete(id); }
      layout();
      return;
    }
    if (!s) {
      const fig = document.createElement('figure');
      fig.dataset.scanout = String(id);
      const caption = document.createElement('figcaption');
      const stage = document.createElement('div');
      stage.className = 'stage';
      const canvas = document.createElement('canvas');
      canvas.className = 'fb';
      canvas.dataset.scanout = String(id);
      stage.appendChild(canvas);
      fig.append(caption, stage);
      // Keep figures ordered by scanout id.
      const after = [...state.scanouts.keys()].filter((k) => k > id).sort((a, b) => a - b)[0];
      screensEl.insertBefore(fig, after === undefined ? null : state.scanouts.get(after).fig);
      const rate = document.createElement('span');
      rate.className = 'rate';
      s = { w, h, fig, stage, canvas, caption, rate, ctx: canvas.getContext('2d'), frames: 0, fps: 0 };
      state.scanouts.set(id, s);
    }
    s.w = w; s.h = h;
    s.canvas.width = w; s.canvas.height = h;
    s.caption.innerHTML = '';
    const b = document.createElement('b');
    b.textContent = 'Scanout ' + id;
    s.caption.append(b, document.createTextNode(' \\u00b7 ' + w + '\\u00d7' + h + ' \\u00b7 '), s.rate);
    s.rate.textContent = s.fps + ' fps';
    layout();
  }

  function onText(msg) {
    if (msg.type === 'hello') {
      if (msg.protocol !== P.VERSION) { setStatus('protocol ' + msg.protocol + ' unsupported', 'off'); return; }
      state.hello = msg;
      for (const id of [...state.scanouts.keys()]) setScanout(id, 0, 0);
      for (const s of msg.scanouts) setScanout(s.scanoutId, s.width, s.height);
      state.cursor = msg.cursor;
      placeCursor();
    } else if (msg.type === 'scanout') {
      setScanout(msg.scanoutId, msg.width, msg.height);
    } else if (msg.type === 'cursor') {
      state.cursor = msg;
      placeCursor();
    }
  }

  function onBinary(buf) {
    if (buf.byteLength < P.H.SIZE) return;
    const v = new DataView(buf);
    const kind = v.getUint8(P.H.kind), flags = v.getUint8(P.H.flags);
    const id = v.getUint32(P.H.scanoutId, true);
    const x = v.getUint32(P.H.x, true), y = v.getUint32(P.H.y, true);
    const w = v.getUint32(P.H.width, true), h = v.getUint32(P.H.height, true);
    if (w === 0 || h === 0 || buf.byteLength !== P.H.SIZE + w * h * 4) return;
    const px = new ImageData(new Uint8ClampedArray(buf, P.H.SIZE, w * h * 4), w, h);
    if (kind === P.KIND.RECT) {
      const s = state.scanouts.get(id);
      if (!s || x + w > s.w || y + h > s.h) return;
      s.ctx.putImageData(px, x, y);
      if (flags & P.FLAG.END_OF_FRAME) { state.frames++; s.frames++; }
    } else if (kind === P.KIND.CURSOR_IMAGE && w === 64 && h === 64) {
      cursorCtx.clearRect(0, 0, 64, 64);
      cursorCtx.putImageData(px, 0, 0);
    }
  }

  // Frames per second per scanout (in its caption); the header shows the busiest scanout's rate,
  // not a sum, so two scanouts at 30 fps read as 30, not 60.
  setInterval(() => {
    let top = 0;
    for (const s of state.scanouts.values()) {
      s.fps = s.frames;
      s.frames = 0;
      s.rate.textContent = s.fps + ' fps';
      if (s.fps > top) top = s.fps;
    }
    state.fps = top;
    fpsEl.textContent = top + ' fps';
  }, 1000);

  let retryMs = 250;
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { state.connected = true; retryMs = 250; setStatus('connected', 'on'); };
    ws.onmessage = (ev) => {
      state.messages++;
      if (typeof ev.data === 'string') {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        onText(msg);
      } else {
        onBinary(ev.data);
      }
    };
    ws.onclose = () => {
      state.connected = false;
      setStatus('disconnected, retrying…', 'off');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  for (const b of document.querySelectorAll('.zoom button')) {
    b.addEventListener('click', () => { state.zoom = b.dataset.zoom; layout(); });
  }
  window.addEventListener('resize', () => { if (state.zoom === 'fit') layout(); });
  layout();
  connect();
})();
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
