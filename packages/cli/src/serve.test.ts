import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeStatus } from '@virtio-gpu/native';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingIo } from './cli-io.js';
import { SERVE_USAGE, runServe } from './serve.js';

const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';


const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vgpu-serve-'));
  dirs.push(d);
  return d;
}

describe('virtio-gpu serve', () => {
  it('--help prints the usage, with the QEMU command line', async () => {
    const t = recordingIo();
    expect(await runServe(['--help'], t.io)).toBe(0);
    expect(t.out.join('')).toBe(SERVE_USAGE);
    expect(SERVE_USAGE).toMatch(/vhost-user-gpu-pci,chardev=gpu/);
  });

  it.each([
    [[], /--vhost-user SOCKET is required/],
    [['--vhost-user', '/tmp/x.sock', '--outputs', '17'], /bad option value/],
    [['--vhost-user', '/tmp/x.sock', '--outputs', '0'], /bad option value/],
    [['--vhost-user', '/tmp/x.sock', '--max-fps=-1'], /bad option value/],
    [['--vhost-user', '/tmp/x.sock', '--strip-bytes', '100'], /bad option value/],
    [['--vhost-user', '/tmp/x.sock', '--frobnicate'], /Unknown option/],
  ])('%j -> exit 1 with a message', async (args, why) => {
    const t = recordingIo();
    expect(await runServe(args as string[], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(why);
  });

  it('an unknown renderer -> exit 2 naming the choices', async () => {
    const t = recordingIo();
    expect(await runServe(['--vhost-user', '/tmp/x.sock', '--renderer', 'virgl'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/unknown renderer 'virgl' \(one of: ts, rutabaga\)/);
  });

  const native = nativeStatus().fdPlumbing;
  const withNative = native || IN_CI ? it : it.skip;
  if (!native && !IN_CI) console.warn('serve listening tests skipped: no native binary (pnpm --filter @virtio-gpu/native build:native)');

  withNative('refuses to replace a file that is not a socket', async () => {
    const path = join(dir(), 'not-a-socket');
    writeFileSync(path, 'x');
    const t = recordingIo();
    expect(await runServe(['--vhost-user', path], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/cannot listen on/);
    expect(existsSync(path)).toBe(true);
  });

  withNative('listens, then SIGTERM stops it cleanly and removes the socket', async () => {
    const path = join(dir(), 'gpu.sock');
    const signals = new EventEmitter();
    const t = recordingIo();
    const done = runServe(['--vhost-user', path, '--outputs', '2'], t.io, signals);
    for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(path)).toBe(true);
    expect(t.out.join('')).toMatch(/backend on .*gpu\.sock \(renderer ts, 2 outputs\)/);
    signals.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(t.out.join('')).toMatch(/stopped \(SIGTERM\) after 0 connections/);
    expect(existsSync(path)).toBe(false);
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });
});
