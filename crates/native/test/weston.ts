/**
 * A real weston (Debian's weston 10) for cross-domain tests: headless backend, a private
 * XDG_RUNTIME_DIR (0700, as weston demands), a socket name of our own, stopped afterwards.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when a weston binary is installed. */
export const westonInstalled = spawnSync('weston', ['--version'], { encoding: 'utf8' }).status === 0;

/** A running weston. */
export interface Weston {
  /** Absolute path of its Wayland socket. */
  socket: string;
  /** What weston printed (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Start weston and wait (up to 15 s) for its socket. */
export async function startWeston(): Promise<Weston> {
  const dir = mkdtempSync(join(tmpdir(), 'vgn-weston-'));
  const name = 'wayland-vgn';
  let out = '';
  const child: ChildProcess = spawn('weston', ['--backend=headless-backend.so', `--socket=${name}`, '--idle-time=0'], {
    env: { ...process.env, XDG_RUNTIME_DIR: dir, WAYLAND_DISPLAY: '', DISPLAY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const socket = join(dir, name);
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`weston did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { socket, log: () => out, stop };
}
