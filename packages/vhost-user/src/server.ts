/**
 * The listening side: QEMU connects to the socket path (`-chardev socket,path=...`), one
 * frontend at a time. Each connection gets a fresh backend (device, memory, rings, display), and
 * when it ends everything it held is released and the next connection is served: a guest reboot
 * stays inside one connection, a QEMU that quits and another that starts are two connections.
 */
import type { Renderer } from '@virtio-gpu/device';
import { type BackendOptions, VhostUserBackend } from './backend.js';
import type { FdSocket, Listener, VhostHost } from './host.js';

/** Options of a {@link VhostUserServer}. */
export interface ServerOptions {
  host: VhostHost;
  /** Socket path to listen on (a stale socket file there is replaced). */
  path: string;
  /** Scanouts of each connection's device. */
  numScanouts: number;
  /** The renderer for each connection; default the pure-TypeScript Renderer2D. */
  createRenderer?: () => Renderer;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Passed to each backend. */
  budget?: BackendOptions['budget'];
  stripBytes?: BackendOptions['stripBytes'];
  maxFps?: BackendOptions['maxFps'];
  displaySync?: BackendOptions['displaySync'];
  /** Log every vhost-user request. */
  trace?: boolean;
  /** Called after each connection ended and was released (tests count resources here). */
  onConnectionClosed?: (id: number, error: string | null) => void;
}

/** See the module comment. */
export class VhostUserServer {
  private listener: Listener | null = null;
  private active: VhostUserBackend | null = null;
  private nextId = 1;
  /** Connections served so far. */
  connections = 0;

  constructor(private readonly opts: ServerOptions) {}

  /** The connection being served, if any. */
  get backend(): VhostUserBackend | null {
    return this.active;
  }

  /** Start listening; throws when the path cannot be bound. */
  listen(): void {
    if (this.listener) return;
    this.listener = this.opts.host.listen(this.opts.path, (sock) => this.accept(sock));
    this.opts.log('info', `vhost-user: listening on ${this.opts.path}`);
  }

  private accept(sock: FdSocket): void {
    const id = this.nextId++;
    if (this.active) {
      // vhost-user has one frontend per backend socket; a second one is a misconfiguration.
      this.opts.log('warn', `vhost-user: connection ${id} refused: another frontend is still connected`);
      sock.close();
      return;
    }
    this.connections++;
    this.opts.log('info', `vhost-user: connection ${id} accepted`);
    let backend: VhostUserBackend;
    try {
      backend = this.serve(id, sock);
    } catch (e) {
      // The device could not be built (a renderer that fails to start): this connection only.
      this.opts.log('error', `vhost-user: connection ${id}: cannot start the device: ${e instanceof Error ? e.message : String(e)}; closing it`);
      sock.close();
      return;
    }
    this.active = backend;
  }

  private serve(id: number, sock: FdSocket): VhostUserBackend {
    const backend: VhostUserBackend = new VhostUserBackend({
      host: this.opts.host,
      sock,
      numScanouts: this.opts.numScanouts,
      createRenderer: this.opts.createRenderer,
      log: this.opts.log,
      name: `connection ${id}`,
      budget: this.opts.budget,
      stripBytes: this.opts.stripBytes,
      maxFps: this.opts.maxFps,
      displaySync: this.opts.displaySync,
      trace: this.opts.trace,
      onClose: (error) => {
        if (this.active === backend) this.active = null;
        this.opts.log('info', `vhost-user: connection ${id} closed${error ? ' after an error' : ''}; waiting for the next`);
        this.opts.onConnectionClosed?.(id, error);
      },
    });
    return backend;
  }

  /** Stop listening and end the active connection (idempotent). */
  close(): void {
    this.listener?.close();
    this.listener = null;
    this.active?.close(null);
    this.active = null;
  }
}
