/**
 * The real-guest harness: boots the Debian guest built by build-guest.sh under QEMU 10 (TCG),
 * with QEMU's built-in virtio-gpu-pci, our backend (`virtio-gpu serve --vhost-user`, a child
 * process) or QEMU's C backend (vhost-user-gpu from qemu-system-gui); follows the guest's serial
 * markers (init: `GUEST[t]: READY`, `GUEST-BENCH ...`), takes QMP screendumps, and counts a
 * process's descriptors and guest-memory mappings. Resizing the display: dbus-display.ts.
 *
 * Everything a test starts lives in a private temp dir and is killed by PID.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where .ci/run builds the guest (git-ignored). */
export const GUEST_DIR = process.env.VGPU_GUEST_DIR ?? join(REPO, '.cache/guest');
/** QEMU 10 from bookworm-backports, unpacked by build-guest.sh. */
export const QEMU_BIN = join(GUEST_DIR, 'qemu/qemu-system-x86_64');
/** QEMU's C vhost-user-gpu backend of the same QEMU build. */
export const REF_BACKEND_BIN = join(GUEST_DIR, 'qemu/vhost-user-gpu');
/** The built CLI. */
export const CLI_BIN = join(REPO, 'packages/cli/dist/bin.js');

/** Whether this run must not skip (CI provides every tool through .ci/run). */
export const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * Brings the guest up to date (build-guest.sh is a no-op when nothing changed; outside CI it is
 * not allowed to call apt-get). Returns why the guest cannot be used, or null.
 */
export function prepareGuest(): string | null {
  if (!existsSync(join(GUEST_DIR, 'vmlinuz')) && !IN_CI) return `no guest in ${GUEST_DIR} (run test/guest/build-guest.sh ${GUEST_DIR}, or .ci/run)`;
  try {
    execFileSync(join(REPO, 'test/guest/build-guest.sh'), [GUEST_DIR], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_APT: IN_CI ? '0' : '1' }, timeout: 600_000 });
  } catch (e) {
    return `build-guest.sh failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n').slice(-3).join(' | ')}`;
  }
  if (!existsSync(QEMU_BIN)) return `no QEMU 10 in ${GUEST_DIR}/qemu`;
  if (!existsSync(CLI_BIN)) return `no built CLI at ${CLI_BIN} (pnpm build)`;
  return null;
}

/** A private temp dir, removed by {@link cleanupTemp}. */
const temps: string[] = [];
export function tempDir(prefix = 'vgpu-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function cleanupTemp(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `proc` to exit, up to `ms`; SIGKILL after that. Resolves with the exit code (or signal name). */
export async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', ms = 10_000): Promise<number | string> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode ?? proc.signalCode!;
  const done = new Promise<number | string>((r) => proc.once('exit', (code, sig) => r(code ?? sig ?? 'exit')));
  proc.kill(signal);
  const t = setTimeout(() => proc.kill('SIGKILL'), ms);
  const r = await done;
  clearTimeout(t);
  return r;
}

// ---- images ------------------------------------------------------------------------------------

/** A screendump: RGB bytes, rows of width*3. */
export interface Image {
  width: number;
  height: number;
  rgb: Buffer;
}

/** Parses a binary PPM (P6, maxval 255), what QEMU's screendump writes. */
export function parsePpm(b: Buffer): Image {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < b.length && /\s/.test(String.fromCharCode(b[pos]))) pos++;
      if (b[pos] !== 0x23) break;
      while (pos < b.length && b[pos] !== 0x0a) pos++;
    }
    const s = pos;
    while (pos < b.length && !/\s/.test(String.fromCharCode(b[pos]))) pos++;
    return b.toString('latin1', s, pos);
  };
  if (token() !== 'P6') throw new Error('not a P6 PPM');
  const width = Number(token());
  const height = Number(token());
  if (token() !== '255') throw new Error('PPM maxval is not 255');
  pos++;
  const rgb = b.subarray(pos, pos + width * height * 3);
  if (rgb.length !== width * height * 3) throw new Error('short PPM');
  return { width, height, rgb };
}

/** sha256 of the pixels (what the shared guest README lists for the fb picture). */
export function rgbSha256(img: Image): string {
  return createHash('sha256').update(img.rgb).digest('hex');
}

/** How many pixels differ (Infinity when the sizes differ). */
export function pixelDiff(a: Image, b: Image): number {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  let n = 0;
  for (let i = 0; i < a.rgb.length; i += 3) if (a.rgb[i] !== b.rgb[i] || a.rgb[i + 1] !== b.rgb[i + 1] || a.rgb[i + 2] !== b.rgb[i + 2]) n++;
  return n;
}

/** Distinct colours in an image (a blank screen has one). */
export function colourCount(img: Image, limit = 64): number {
  const seen = new Set<number>();
  for (let i = 0; i < img.rgb.length && seen.size < limit; i += 3) seen.add((img.rgb[i] << 16) | (img.rgb[i + 1] << 8) | img.rgb[i + 2]);
  return seen.size;
}

// ---- QMP ---------------------------------------------------------------------------------------

/** A QMP client on a UNIX socket. */
export class Qmp {
  private buf = '';
  private readonly waiters: ((m: Record<string, unknown>) => void)[] = [];
  private readonly lines: Record<string, unknown>[] = [];
  readonly events: Record<string, unknown>[] = [];

  private constructor(private readonly sock: ReturnType<typeof createConnection>) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (!line) continue;
        const m = JSON.parse(line) as Record<string, unknown>;
        if (m.event) this.events.push(m);
        else if (this.waiters.length) this.waiters.shift()!(m);
        else this.lines.push(m);
      }
    });
    sock.on('error', () => {});
  }

  static async connect(path: string, timeoutMs = 20_000): Promise<Qmp> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<ReturnType<typeof createConnection>>((res, rej) => {
          const s = createConnection(path);
          s.once('connect', () => res(s));
          s.once('error', rej);
        });
        const q = new Qmp(sock);
        await q.next(); // greeting
        await q.cmd('qmp_capabilities');
        return q;
      } catch (e) {
        if (Date.now() > end) throw e;
        await sleep(100);
      }
    }
  }

  private next(): Promise<Record<string, unknown>> {
    const l = this.lines.shift();
    return l ? Promise.resolve(l) : new Promise((r) => this.waiters.push(r));
  }

  async cmd(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    this.sock.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    const r = await this.next();
    if (r.error) throw new Error(`${execute}: ${JSON.stringify(r.error)}`);
    return r.return;
  }

  close(): void {
    this.sock.destroy();
  }
}

// ---- QEMU --------------------------------------------------------------------------------------

/** What to boot. */
export interface QemuOptions {
  /** builtin: QEMU's virtio-gpu-pci; vhost-user: -device vhost-user-gpu-pci on `socket`. */
  gpu: { kind: 'builtin' } | { kind: 'vhost-user'; socket: string };
  /** Extra device options, e.g. "xres=1024,yres=768". */
  gpuOpts?: string;
  /** guest.draw (default fb). */
  draw?: 'fb' | 'modetest' | 'bench' | 'none';
  /** guest.draw=bench: frames and path. */
  bench?: { frames: number; path: 'fb' | 'flip' };
  /** More kernel command line. */
  append?: string;
  /** QEMU's D-Bus display (peer-to-peer, no GL) instead of none, and a second QMP socket to hand it a client (dbus-display.ts). */
  dbus?: boolean;
  /** Guest RAM in MiB (default 512). */
  memMiB?: number;
  /** Extra QEMU arguments (e.g. ['-trace', 'vhost_user_*']). */
  extraArgs?: string[];
}

/** One QEMU process and its sockets. */
export class Qemu {
  readonly dir = tempDir('vgpu-qemu-');
  readonly serialPath = join(this.dir, 'serial.log');
  readonly qmpPath = join(this.dir, 'qmp.sock');
  /** The QMP socket for dbus-display.ts (its own, so descriptors can be passed on it). */
  readonly qmpFdPath = join(this.dir, 'qmp-fd.sock');
  readonly proc: ChildProcess;
  stderr = '';
  private qmpClient: Qmp | null = null;
  readonly startedAt = Date.now();

  constructor(readonly opts: QemuOptions) {
    const cmdline = ['console=ttyS0', 'consoleblank=0', 'vt.global_cursor_default=0', 'panic=-1', `guest.draw=${opts.draw ?? 'fb'}`];
    if (opts.bench) cmdline.push(`guest.frames=${opts.bench.frames}`, `guest.bench=${opts.bench.path}`);
    if (opts.append) cmdline.push(opts.append);
    const mem = opts.memMiB ?? 512;
    const dev = (name: string) => `${name}${opts.gpuOpts ? `,${opts.gpuOpts}` : ''}`;
    const gpu =
      opts.gpu.kind === 'builtin'
        ? ['-device', dev('virtio-gpu-pci')]
        : [
            '-object', `memory-backend-memfd,id=mem,size=${mem}M,share=on`, '-machine', 'memory-backend=mem',
            '-chardev', `socket,id=vgpu,path=${opts.gpu.socket}`, '-device', dev('vhost-user-gpu-pci,chardev=vgpu'),
          ];
    const args = [
      '-name', 'vgpu-guest,debug-threads=on', '-nodefaults', '-vga', 'none', '-display', opts.dbus ? 'dbus,p2p=yes' : 'none', '-accel', 'tcg', '-m', String(mem),
      '-kernel', join(GUEST_DIR, 'vmlinuz'), '-initrd', join(GUEST_DIR, 'initramfs.cpio.gz'), '-append', cmdline.join(' '),
      ...gpu, '-serial', `file:${this.serialPath}`, '-qmp', `unix:${this.qmpPath},server=on,wait=off`,
      ...(opts.dbus ? ['-qmp', `unix:${this.qmpFdPath},server=on,wait=off`] : []),
      ...(opts.extraArgs ?? []),
    ];
    this.proc = spawn(QEMU_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => {
      this.stderr += d;
    });
  }

  /** Everything the guest wrote to its serial console so far. */
  serial(): string {
    try {
      return readFileSync(this.serialPath, 'latin1');
    } catch {
      return '';
    }
  }

  /** The `n`th (1-based) match of `re` in the serial log; fails early on a guest FAIL or QEMU exit. */
  async waitSerial(re: RegExp, timeoutMs: number, n = 1): Promise<RegExpMatchArray> {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = this.serial();
      const all = [...text.matchAll(g)];
      if (all.length >= n) return all[n - 1];
      const fail = /GUEST\[[0-9.]+\]: FAIL.*/.exec(text);
      if (fail) throw new Error(`guest failed: ${fail[0]}\n${this.tail()}`);
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`QEMU exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${re}: ${this.stderr.trim()}\n${this.tail()}`);
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${re}\n${this.tail()}`);
      await sleep(100);
    }
  }

  /** The last serial lines (for failure messages). */
  tail(lines = 15): string {
    return this.serial().split('\n').slice(-lines).map((l) => `  serial: ${l}`).join('\n');
  }

  /** The QMP connection (opened on first use). */
  async qmp(): Promise<Qmp> {
    this.qmpClient ??= await Qmp.connect(this.qmpPath);
    return this.qmpClient;
  }

  /** A screendump of the console as RGB. */
  async screendump(): Promise<Image> {
    const file = join(this.dir, `shot-${Date.now()}.ppm`);
    await (await this.qmp()).cmd('screendump', { filename: file });
    const img = parsePpm(readFileSync(file));
    rmSync(file, { force: true });
    return img;
  }

  /** Quit through QMP (like a user closing QEMU); killed if it does not exit in time. */
  async quit(): Promise<void> {
    try {
      await Promise.race([(await this.qmp()).cmd('quit'), sleep(3000)]);
    } catch {
      // QEMU may close the socket before answering
    }
    this.qmpClient?.close();
    this.qmpClient = null;
    await stopProcess(this.proc, 'SIGTERM', 5000);
  }
}

// ---- backends ----------------------------------------------------------------------------------

/** Descriptors a process has open. */
export function fdCount(pid: number): number {
  let n = 0;
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    try {
      readlinkSync(`/proc/${pid}/fd/${name}`);
      n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Mappings of memfds (QEMU's guest RAM) in a process. */
export function memfdMappings(pid: number): number {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((l) => l.includes('/memfd:')).length;
}

/** `virtio-gpu serve --vhost-user SOCKET` as a child process. */
export class OurBackend {
  readonly socket: string;
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';

  constructor(args: string[] = [], dir = tempDir('vgpu-backend-')) {
    this.socket = join(dir, 'gpu.sock');
    this.proc = spawn(process.execPath, [CLI_BIN, 'serve', '--vhost-user', this.socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stdout!.on('data', (d: string) => {
      this.stdout += d;
    });
    this.proc.stderr!.on('data', (d: string) => {
      this.stderr += d;
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resolves once the socket is listening. */
  async ready(timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.stdout.includes('backend on')) {
      if (this.proc.exitCode !== null) throw new Error(`backend exited: ${this.stderr}`);
      if (Date.now() > end) throw new Error(`backend not listening after ${timeoutMs} ms: ${this.stderr}`);
      await sleep(50);
    }
  }

  /** Resolves once the backend has logged `n` closed connections. */
  async connectionsClosed(n: number, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ((this.stderr.match(/connection \d+ closed/g) ?? []).length < n) {
      if (Date.now() > end) throw new Error(`backend: ${n} closed connections not seen:\n${this.stderr}`);
      await sleep(50);
    }
  }

  /** SIGTERM; resolves with the exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    return stopProcess(this.proc, signal);
  }
}

/** QEMU's C backend on a fresh socket. */
export class RefBackend {
  readonly socket: string;
  readonly proc: ChildProcess;
  stderr = '';

  constructor(dir = tempDir('vgpu-ref-')) {
    this.socket = join(dir, 'ref.sock');
    this.proc = spawn(REF_BACKEND_BIN, [`--socket-path=${this.socket}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => {
      this.stderr += d;
    });
  }

  async ready(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!existsSync(this.socket)) {
      if (this.proc.exitCode !== null) throw new Error(`vhost-user-gpu exited: ${this.stderr}`);
      if (Date.now() > end) throw new Error('vhost-user-gpu did not listen');
      await sleep(50);
    }
  }

  stop(): Promise<number | string> {
    return stopProcess(this.proc);
  }
}

/** CPU seconds (user + system) of a process, split into its main thread, named groups and the rest. */
export interface CpuSample {
  main: number;
  /** Threads whose name contains "CPU" (QEMU's vCPU threads). */
  vcpu: number;
  other: number;
}

/** Per-thread CPU time of a process from /proc/PID/task/TID/stat (clock ticks of 10 ms). */
export function cpuSample(pid: number): CpuSample {
  const out: CpuSample = { main: 0, vcpu: 0, other: 0 };
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const secs = (Number(f[11]) + Number(f[12])) / 100;
      if (Number(tid) === pid) out.main += secs;
      else if (name.includes('CPU')) out.vcpu += secs;
      else out.other += secs;
    } catch {
      // thread gone
    }
  }
  return out;
}

/** b - a, per field. */
export function cpuDelta(a: CpuSample, b: CpuSample): CpuSample {
  return { main: b.main - a.main, vcpu: b.vcpu - a.vcpu, other: b.other - a.other };
}
