import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeStatus } from '@virtio-gpu/native';
import { recordingIo } from './cli-io.js';
import { afterAll, describe, expect, test } from 'vitest';
import { runDemo } from './demo.js';
import { loadRenderer } from './renderer-choice.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});


const native = nativeStatus();
// In CI the binary is built (.ci/run); elsewhere a machine without one skips, and says why.
const withNative = native.available || Boolean(process.env.CI);
if (!withNative) console.warn(`demo --renderer rutabaga test skipped: ${native.reason}`);

describe('virtio-gpu demo --renderer', () => {
  test.runIf(withNative)('--renderer rutabaga writes frames byte-identical to --renderer ts', async () => {
    const out: Record<string, string> = {};
    for (const renderer of ['ts', 'rutabaga']) {
      const d = await mkdtemp(join(tmpdir(), `vgpu-demo-${renderer}-`));
      dirs.push(d);
      const t = recordingIo();
      expect(await runDemo(['--png', d, '--frames', '4', '--scanouts', '320x240,256x192', '--renderer', renderer], t.io), t.err.join('')).toBe(0);
      out[renderer] = d;
    }
    const names = (await readdir(out.ts!)).sort();
    expect(names).toHaveLength(8);
    expect((await readdir(out.rutabaga!)).sort()).toEqual(names);
    for (const n of names) {
      const [a, b] = [await readFile(join(out.ts!, n)), await readFile(join(out.rutabaga!, n))];
      expect(Buffer.compare(a, b), n).toBe(0);
    }
  });

  test('an unknown renderer is refused with the list of names', async () => {
    const t = recordingIo();
    expect(await runDemo(['--png', '/nonexistent', '--renderer', 'virgl'], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/unknown renderer 'virgl' \(one of: ts, rutabaga\)/);
  });

  test('rutabaga either loads or explains why and how to build it', async () => {
    const choice = await loadRenderer('rutabaga');
    if (native.available) {
      expect(typeof choice).toBe('object');
      expect(choice).toMatchObject({ sharedRam: true });
    } else {
      expect(choice).toMatch(/not available on .*build:native/);
    }
  });
});
