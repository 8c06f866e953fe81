/**
 * Serves the browser page (built by `vite build` into dist-page/) with what it boots: the guest's
 * kernel and initrd, SeaBIOS and v86.wasm. Node-only. Fixed routes, no directory listing; binds
 * to loopback unless told otherwise.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEABIOS_DIR, v86BuildDir } from './node.js';

/** Options of {@link servePage}. */
export interface ServePageOptions {
  kernel: string;
  initrd: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Built page directory (default: this package's dist-page). */
  pageDir?: string;
}

/** A running page server. */
export interface PageServer {
  /** http://host:port/ */
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** The built page's directory inside this package. */
export function pageDir(): string {
  return fileURLToPath(new URL('../dist-page/', import.meta.url));
}

/** Starts the server; rejects when the page was not built. */
export async function servePage(o: ServePageOptions): Promise<PageServer> {
  const dir = o.pageDir ?? pageDir();
  await stat(join(dir, 'index.html')).catch(() => {
    throw new Error(`no built page in ${dir}: run pnpm build (vite build --config page/vite.config.ts)`);
  });
  const fixed: Record<string, string> = {
    '/guest/bzImage': o.kernel,
    '/guest/initrd': o.initrd,
    '/bios/bios.bin': join(SEABIOS_DIR, 'bios.bin'),
    '/bios/vgabios.bin': join(SEABIOS_DIR, 'vgabios-stdvga.bin'),
    '/v86/v86.wasm': join(v86BuildDir(), 'v86.wasm'),
  };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = fixed[path];
    if (file === undefined && req.method === 'GET') {
      const rel = normalize(path === '/' ? '/index.html' : path).replace(/^[/\\]+/, '');
      const full = join(dir, rel);
      if (full.startsWith(dir.endsWith(sep) ? dir : dir + sep)) file = full;
    }
    if (file === undefined || req.method !== 'GET') {
      res.writeHead(404).end('not found');
      return;
    }
    stat(file).then(
      (s) => {
        if (!s.isFile()) return void res.writeHead(404).end('not found');
        res.writeHead(200, { 'content-type': TYPES[extname(file!)] ?? 'application/octet-stream', 'content-length': s.size, 'cache-control': 'no-store' });
        createReadStream(file!).pipe(res);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A browser may keep a download or an idle keep-alive socket open: do not wait for it.
        server.closeAllConnections();
      }),
  };
}
