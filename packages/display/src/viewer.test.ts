import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Display } from './display.js';
import { FakeSource, squareCursor } from './testing/fake-source.js';
import { startViewer, type Viewer } from './viewer.js';
import {
  decodeBinaryMessage,
  VIEWER_PROTOCOL_VERSION,
  ViewerMsgFlag,
  ViewerMsgKind,
  type ViewerBinaryMessage,
  type ViewerTextMessage,
} from './viewer-protocol.js';

const info = (width: number, height: number) => ({ resourceId: 1, width, height, r: { x: 0, y: 0, width, height } });

/** A protocol client that rebuilds the framebuffers the way the page does. */
class ModelClient {
  readonly ws: WebSocket;
  readonly texts: ViewerTextMessage[] = [];
  readonly binaries: Omit<ViewerBinaryMessage, 'pixels'>[] = [];
  readonly fbs = new Map<number, { width: number; height: number; data: Uint8Array }>();
  cursorImage: Uint8Array | null = null;
  frames = 0;
  errors: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(url: string, headers?: Record<string, string>) {
    this.ws = new WebSocket(url.replace('http://', 'ws://') + 'ws', { headers });
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else this.onText(JSON.parse(data.toString()) as ViewerTextMessage);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  private onText(msg: ViewerTextMessage): void {
    this.texts.push(msg);
    if (msg.type === 'hello') for (const s of msg.scanouts) this.setScanout(s.scanoutId, s.width, s.height);
    if (msg.type === 'scanout') this.setScanout(msg.scanoutId, msg.width, msg.height);
  }

  private setScanout(id: number, width: number, height: number): void {
    if (width === 0) this.fbs.delete(id);
    else this.fbs.set(id, { width, height, data: new Uint8Array(width * height * 4) });
  }

  private onBinary(bytes: Uint8Array): void {
    const m = decodeBinaryMessage(bytes);
    if (m === null) {
      this.errors.push('undecodable binary message');
      return;
    }
    const { pixels, ...header } = m;
    this.binaries.push(header);
    if (m.kind === ViewerMsgKind.CURSOR_IMAGE) {
      this.cursorImage = new Uint8Array(pixels);
      return;
    }
    const fb = this.fbs.get(m.scanoutId);
    if (fb === undefined || m.x + m.width > fb.width || m.y + m.height > fb.height) {
      this.errors.push(`rect outside scanout ${m.scanoutId}`);
      return;
    }
    for (let row = 0; row < m.height; row++) {
      fb.data.set(pixels.subarray(row * m.width * 4, (row + 1) * m.width * 4), ((m.y + row) * fb.width + m.x) * 4);
    }
    if (m.flags & ViewerMsgFlag.END_OF_FRAME) this.frames++;
  }

  /** Resolves once `pred` holds, checked after each message. */
  async until(pred: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  matches(display: Display, id: number): boolean {
    const fb = this.fbs.get(id);
    const s = display.surface(id);
    return fb !== undefined && s !== undefined && fb.width === s.width && Buffer.compare(fb.data, s.data) === 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let viewer: Viewer | null = null;
const clients: ModelClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) {
    c.ws.on('error', () => {});
    if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
  }
  await viewer?.close();
  viewer = null;
});

async function setup(opts: { frameIntervalMs?: number; maxBufferedBytes?: number; size?: [number, number] } = {}) {
  const source = new FakeSource();
  const display = new Display({ source });
  const [w, h] = opts.size ?? [48, 32];
  source.setScanout(0, w, h);
  source.setScanout(2, 20, 10);
  display.scanoutChanged(0, info(w, h));
  display.scanoutChanged(2, info(20, 10));
  viewer = await startViewer({ display, port: 0, frameIntervalMs: opts.frameIntervalMs, maxBufferedBytes: opts.maxBufferedBytes });
  return { source, display, viewer };
}

function connect(url: string, headers?: Record<string, string>): ModelClient {
  const c = new ModelClient(url, headers);
  clients.push(c);
  return c;
}

function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('viewer HTTP', () => {
  it('GET / -> self-contained page: no external scripts, styles or URLs', async () => {
    const { viewer } = await setup();
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await httpGet(viewer.url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain("createElement('canvas')");
    expect(res.body).not.toMatch(/\b(src|href)\s*=/i);
    expect(res.body).not.toMatch(/https?:\/\//);
  });

  it('unknown path -> 404; foreign Host header -> 403', async () => {
    const { viewer } = await setup();
    expect((await httpGet(viewer.url + 'nope')).status).toBe(404);
    expect((await httpGet(viewer.url, { host: 'evil.example:80' })).status).toBe(403);
  });
});

describe('viewer protocol', () => {
  it('connect -> hello, then full frames that rebuild every surface', async () => {
    const { display, viewer } = await setup();
    display.cursorChanged({ scanoutId: 0, x: 5, y: 6, hotX: 1, hotY: 2, resourceId: 9, image: squareCursor(4, [1, 2, 3, 255]) });
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 0) && c.matches(display, 2) && c.cursorImage !== null, 'full frames');
    expect(c.texts[0]).toEqual({
      type: 'hello',
      protocol: VIEWER_PROTOCOL_VERSION,
      scanouts: [
        { scanoutId: 0, width: 48, height: 32 },
        { scanoutId: 2, width: 20, height: 10 },
      ],
      cursor: { scanoutId: 0, x: 5, y: 6, hotX: 1, hotY: 2, visible: true },
    });
    const rects = c.binaries.filter((b) => b.kind === ViewerMsgKind.RECT);
    expect(rects.map((b) => [b.scanoutId, b.flags, b.seq])).toEqual([
      [0, ViewerMsgFlag.FULL | ViewerMsgFlag.END_OF_FRAME, 1],
      [2, ViewerMsgFlag.FULL | ViewerMsgFlag.END_OF_FRAME, 1],
    ]);
    expect(c.cursorImage).toEqual(display.cursor.image);
    expect(c.binaries.find((b) => b.kind === ViewerMsgKind.CURSOR_IMAGE)).toMatchObject({ x: 1, y: 2, width: 64, height: 64 });
    expect(c.errors).toEqual([]);
    expect(viewer.clientCount).toBe(1);
  });

  it('flush -> only the damaged rect is sent, framebuffer matches the surface', async () => {
    const { source, display, viewer } = await setup();
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 0), 'initial frame');
    const before = c.binaries.length;
    source.fill(0, { x: 10, y: 4, width: 7, height: 5 }, [200, 100, 50, 255]);
    display.flushed(0, { x: 10, y: 4, width: 7, height: 5 });
    await c.until(() => c.matches(display, 0), 'damage');
    expect(c.binaries.slice(before)).toEqual([
      { kind: ViewerMsgKind.RECT, flags: ViewerMsgFlag.END_OF_FRAME, scanoutId: 0, seq: 2, x: 10, y: 4, width: 7, height: 5 },
    ]);
  });

  it('burst of flushes within one interval -> coalesced into merged rects', async () => {
    const { source, display, viewer } = await setup({ frameIntervalMs: 40 });
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 0), 'initial frame');
    const before = c.binaries.length;
    for (let x = 0; x < 40; x += 4) {
      source.fill(0, { x, y: 0, width: 4, height: 8 }, [x, 255 - x, 9, 255]);
      display.flushed(0, { x, y: 0, width: 4, height: 8 });
    }
    await c.until(() => c.matches(display, 0), 'coalesced damage');
    const sent = c.binaries.slice(before);
    expect(sent).toEqual([{ kind: ViewerMsgKind.RECT, flags: ViewerMsgFlag.END_OF_FRAME, scanoutId: 0, seq: 2, x: 0, y: 0, width: 40, height: 8 }]);
  });

  it('resize -> scanout message, then a full frame of the new size', async () => {
    const { source, display, viewer } = await setup();
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 0), 'initial frame');
    source.setScanout(0, 30, 40, 77);
    display.scanoutChanged(0, info(30, 40));
    await c.until(() => c.fbs.get(0)?.width === 30 && c.matches(display, 0), 'resized frame');
    expect(c.texts.at(-1)).toEqual({ type: 'scanout', scanoutId: 0, width: 30, height: 40 });
    expect(c.binaries.at(-1)).toMatchObject({ scanoutId: 0, flags: ViewerMsgFlag.FULL | ViewerMsgFlag.END_OF_FRAME, width: 30, height: 40 });
  });

  it('scanout disabled -> scanout message with size 0', async () => {
    const { display, viewer } = await setup();
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 2), 'initial frame');
    display.scanoutChanged(2, null);
    await c.until(() => !c.fbs.has(2), 'removal');
    expect(c.texts.at(-1)).toEqual({ type: 'scanout', scanoutId: 2, width: 0, height: 0 });
  });

  it('cursor moves -> coalesced cursor messages carrying the last position', async () => {
    const { display, viewer } = await setup({ frameIntervalMs: 40 });
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 0), 'initial frame');
    const img = squareCursor(3, [9, 8, 7, 255]);
    display.cursorChanged({ scanoutId: 2, x: 1, y: 1, hotX: 0, hotY: 0, resourceId: 4, image: img });
    for (let i = 2; i <= 10; i++) display.cursorChanged({ scanoutId: 2, x: i, y: i * 2, hotX: 0, hotY: 0, resourceId: 4 });
    await c.until(() => c.texts.some((t) => t.type === 'cursor' && t.x === 10), 'cursor');
    const cursorTexts = c.texts.filter((t) => t.type === 'cursor');
    expect(cursorTexts).toEqual([{ type: 'cursor', scanoutId: 2, x: 10, y: 20, hotX: 0, hotY: 0, visible: true }]);
    expect(c.cursorImage).toEqual(img);
  });

  it('second client -> gets its own full frames; both stay in sync', async () => {
    const { source, display, viewer } = await setup();
    const a = connect(viewer.url);
    await a.until(() => a.matches(display, 0), 'a initial');
    source.fill(0, { x: 0, y: 0, width: 5, height: 5 }, [1, 1, 1, 255]);
    display.flushed(0, { x: 0, y: 0, width: 5, height: 5 });
    const b = connect(viewer.url);
    await b.until(() => b.matches(display, 0) && b.matches(display, 2), 'b initial');
    await a.until(() => a.matches(display, 0), 'a damage');
    expect(viewer.clientCount).toBe(2);
  });

  it('foreign Origin or wrong path -> handshake refused', async () => {
    const { viewer } = await setup();
    const c = connect(viewer.url, { origin: 'http://evil.example' });
    const status = await new Promise<number>((resolve) => c.ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
    const same = connect(viewer.url, { origin: viewer.url.replace(/\/$/, '') });
    await same.until(() => same.texts.length > 0, 'same-origin hello');
  });

  it('slow client -> intermediate frames skipped, catches up to the latest pixels', async () => {
    // 512x512 = 1 MiB per full frame; a paused client fills the socket buffers and then
    // bufferedAmount, after which the server must stop sending.
    const { source, display, viewer } = await setup({ frameIntervalMs: 5, maxBufferedBytes: 1, size: [512, 512] });
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 0), 'initial frame');
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const flushes = 40;
    for (let i = 0; i < flushes; i++) {
      source.fill(0, { x: 0, y: 0, width: 512, height: 512 }, [i, i, i, 255]);
      display.flushed(0, { x: 0, y: 0, width: 512, height: 512 });
      await sleep(10);
    }
    socket.resume();
    await c.until(() => c.matches(display, 0), 'catch-up', 10000);
    const rects = c.binaries.filter((b) => b.kind === ViewerMsgKind.RECT && b.scanoutId === 0);
    expect(rects.length).toBeLessThan(flushes);
  });

  it('close -> clients disconnected, server stops listening', async () => {
    const { display, viewer } = await setup();
    const c = connect(viewer.url);
    await c.until(() => c.matches(display, 0), 'initial frame');
    const closed = new Promise<void>((resolve) => c.ws.on('close', () => resolve()));
    await viewer.close();
    await closed;
    expect(viewer.clientCount).toBe(0);
    await expect(httpGet(viewer.url)).rejects.toThrow();
    // Display events after close go nowhere and do not throw.
    expect(() => display.flushed(0, { x: 0, y: 0, width: 1, height: 1 })).not.toThrow();
  });
});
