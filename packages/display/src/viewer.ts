import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { CURSOR_SIZE } from '@virtio-gpu/protocol';
import type { CursorInfo } from './cursor.js';
import { DamageAccumulator } from './damage.js';
import type { Display } from './display.js';
import { viewerPageHtml } from './viewer-page.js';
import {
  encodeBinaryMessage,
  VIEWER_PROTOCOL_VERSION,
  ViewerMsgFlag,
  ViewerMsgKind,
  type CursorJson,
  type ViewerTextMessage,
} from './viewer-protocol.js';

/** Options for `startViewer`. */
export interface ViewerOptions {
  display: Display;
  /** Interface to bind; loopback by default, since the stream shows the guest's screen to anyone who connects. */
  host?: string;
  /** TCP port; 0 picks a free one (see `Viewer.url`). */
  port?: number;
  /** Shortest time between two updates to a client, in ms: damage coalesces per interval (default 16, one 60 Hz frame). */
  frameIntervalMs?: number;
  /**
   * A client whose socket holds more than this many unsent bytes gets no updates until it drains;
   * its damage keeps merging meanwhile (bounded), so a slow client costs bounded memory (default 8 MiB).
   */
  maxBufferedBytes?: number;
  /** Page title. */
  title?: string;
}

/** A running viewer. */
export interface Viewer {
  /** The page, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Connected WebSocket clients. */
  readonly clientCount: number;
  /** Disconnects every client and stops the server. */
  close(): Promise<void>;
}

const WS_PATH = '/ws';

interface ClientState {
  ws: WebSocket;
  /** Sizes this client was told, by scanout id. */
  known: Map<number, { width: number; height: number }>;
  damage: Map<number, DamageAccumulator>;
  /** Scanouts this client must receive whole. */
  full: Set<number>;
  seq: Map<number, number>;
  cursorDirty: boolean;
  cursorImageDirty: boolean;
}

/**
 * Serves a live view of `display`: GET / returns the page, /ws streams the protocol described in
 * viewer-protocol.ts. Damage is coalesced per `frameIntervalMs` and read from the surface at send
 * time, so a burst of flushes costs one message per merged rect.
 */
export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const { display } = options;
  const host = options.host ?? '127.0.0.1';
  const frameIntervalMs = options.frameIntervalMs ?? 16;
  const maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const page = Buffer.from(viewerPageHtml(options.title), 'utf8');

  const clients = new Set<ClientState>();
  let timer: NodeJS.Timeout | null = null;
  let lastFlush = 0;
  let closed = false;

  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req)) {
      res.writeHead(403).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.length,
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : page);
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });

  let boundPort = 0;
  const loopbackHosts = (port: number) =>
    new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host.includes(':') ? `[${host}]` : host}:${port}`]);

  /**
   * When bound to loopback, only accept loopback Host headers: a DNS-rebinding page would send its
   * own name. Bound elsewhere, the operator chose to expose it.
   */
  function hostAllowed(req: IncomingMessage): boolean {
    if (!isLoopback(host)) return true;
    return loopbackHosts(boundPort).has((req.headers.host ?? '').toLowerCase());
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    // Browsers always send Origin on WebSocket handshakes; a page from another origin must not
    // read the guest's screen. Non-browser clients send none.
    const origin = req.headers.origin;
    if (closed || path !== WS_PATH || !hostAllowed(req) || (origin !== undefined && origin !== `http://${req.headers.host}`)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  function onConnection(ws: WebSocket): void {
    const client: ClientState = {
      ws,
      known: new Map(),
      damage: new Map(),
      full: new Set(),
      seq: new Map(),
      cursorDirty: false,
      cursorImageDirty: display.cursor.image !== null,
    };
    clients.add(client);
    const surfaces = display.surfaces();
    for (const s of surfaces) {
      client.known.set(s.scanoutId, { width: s.width, height: s.height });
      client.full.add(s.scanoutId);
    }
    sendText(client, {
      type: 'hello',
      protocol: VIEWER_PROTOCOL_VERSION,
      scanouts: surfaces.map((s) => ({ scanoutId: s.scanoutId, width: s.width, height: s.height })),
      cursor: cursorJson(display.cursor),
    });
    flushClient(client);
    ws.on('message', (data, isBinary) => {
      // The only request: a full refresh (e.g. after the page was hidden).
      if (isBinary) return;
      try {
        const msg = JSON.parse(String(data)) as { type?: unknown };
        if (msg.type === 'refresh') {
          for (const s of display.surfaces()) client.full.add(s.scanoutId);
          schedule();
        }
      } catch {
        // A malformed client message is ignored, like any other junk.
      }
    });
    ws.on('close', () => clients.delete(client));
    ws.on('error', () => clients.delete(client));
  }

  const offFrame = display.on('frame', (e) => {
    for (const c of clients) {
      if (c.full.has(e.scanoutId)) continue;
      let acc = c.damage.get(e.scanoutId);
      if (acc === undefined) {
        acc = new DamageAccumulator();
        c.damage.set(e.scanoutId, acc);
      }
      for (const r of e.damage) acc.add(r);
    }
    schedule();
  });
  // Size changes are found at send time by comparing with what each client knows.
  const offScanout = display.on('scanout', () => schedule());
  const offCursor = display.on('cursor', (e) => {
    for (const c of clients) {
      c.cursorDirty = true;
      if (e.imageChanged) c.cursorImageDirty = true;
    }
    schedule();
  });

  function schedule(delayMs?: number): void {
    if (timer !== null || closed) return;
    const wait = delayMs ?? Math.max(0, lastFlush + frameIntervalMs - Date.now());
    timer = setTimeout(flushAll, wait);
  }

  function flushAll(): void {
    timer = null;
    lastFlush = Date.now();
    let congested = false;
    for (const c of clients) if (!flushClient(c)) congested = true;
    // A congested client still has work; look again once its socket had time to drain.
    if (congested) schedule(Math.max(frameIntervalMs, 50));
  }

  /** Sends everything pending to one client; false when it is too far behind to take more now. */
  function flushClient(c: ClientState): boolean {
    if (c.ws.readyState !== WebSocket.OPEN) return true;
    if (c.ws.bufferedAmount > maxBufferedBytes) return false;
    const surfaces = display.surfaces();
    const present = new Set<number>();
    for (const s of surfaces) {
      present.add(s.scanoutId);
      const k = c.known.get(s.scanoutId);
      if (k === undefined || k.width !== s.width || k.height !== s.height) {
        c.known.set(s.scanoutId, { width: s.width, height: s.height });
        c.full.add(s.scanoutId);
        sendText(c, { type: 'scanout', scanoutId: s.scanoutId, width: s.width, height: s.height });
      }
    }
    for (const id of [...c.known.keys()]) {
      if (present.has(id)) continue;
      c.known.delete(id);
      c.full.delete(id);
      c.damage.delete(id);
      sendText(c, { type: 'scanout', scanoutId: id, width: 0, height: 0 });
    }
    for (const s of surfaces) {
      const id = s.scanoutId;
      const full = c.full.has(id);
      const acc = c.damage.get(id);
      const rects = full ? [{ x: 0, y: 0, width: s.width, height: s.height }] : (acc?.take() ?? []);
      if (full) {
        c.full.delete(id);
        acc?.clear();
      }
      if (rects.length === 0) continue;
      const seq = (c.seq.get(id) ?? 0) + 1;
      c.seq.set(id, seq);
      rects.forEach((r, i) => {
        const flags = (full ? ViewerMsgFlag.FULL : 0) | (i === rects.length - 1 ? ViewerMsgFlag.END_OF_FRAME : 0);
        const msg = encodeBinaryMessage(
          { kind: ViewerMsgKind.RECT, flags, scanoutId: id, seq, x: r.x, y: r.y, width: r.width, height: r.height },
          s.data,
          s.strideBytes,
          r.x,
          r.y,
        );
        c.ws.send(msg, { binary: true });
      });
    }
    const cursor = display.cursor;
    if (c.cursorImageDirty && cursor.image !== null) {
      c.ws.send(
        encodeBinaryMessage(
          {
            kind: ViewerMsgKind.CURSOR_IMAGE,
            flags: 0,
            scanoutId: cursor.scanoutId,
            seq: 0,
            x: cursor.hotX,
            y: cursor.hotY,
            width: CURSOR_SIZE,
            height: CURSOR_SIZE,
          },
          cursor.image,
          CURSOR_SIZE * 4,
          0,
          0,
        ),
        { binary: true },
      );
    }
    c.cursorImageDirty = false;
    if (c.cursorDirty) {
      c.cursorDirty = false;
      sendText(c, { type: 'cursor', ...cursorJson(cursor) });
    }
    return true;
  }

  function sendText(c: ClientState, msg: ViewerTextMessage): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${boundPort}/`;

  return {
    url,
    host,
    port: boundPort,
    get clientCount() {
      return clients.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      offFrame();
      offScanout();
      offCursor();
      for (const c of clients) c.ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function cursorJson(c: CursorInfo): CursorJson {
  return { scanoutId: c.scanoutId, x: c.x, y: c.y, hotX: c.hotX, hotY: c.hotY, visible: c.visible };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
