/**
 * The fuzz targets' corpora and findings as tests: every committed seed and every regression
 * input runs through its target (uninstrumented) on every `pnpm test`. A regression file is an
 * input the fuzzer once found failing; its name says what it found (docs/fuzzing.md lists them).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as P from '@virtio-gpu/protocol';
import { Renderer2D } from '@virtio-gpu/device';
import { TARGETS } from './engine/targets';
import type { FuzzTarget } from './engine/protocol';
import { StreamRig } from './harness/command-stream';

const here = dirname(fileURLToPath(import.meta.url));

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')).sort() : [];
}

for (const [name, path] of Object.entries(TARGETS)) {
  describe(`fuzz target ${name}`, () => {
    const regressions = files(join(here, 'regressions', name));
    const corpus = files(join(here, 'corpus', name));
    for (const f of regressions) {
      it(`regression ${f}`, async () => {
        const t = (await import(/* @vite-ignore */ join(here, path))) as FuzzTarget;
        await t.fuzz(new Uint8Array(readFileSync(join(here, 'regressions', name, f))));
      });
    }
    it(`replays its ${corpus.length} corpus inputs`, async () => {
      expect(corpus.length).toBeGreaterThan(0);
      const t = (await import(/* @vite-ignore */ join(here, path))) as FuzzTarget;
      for (const f of corpus) await t.fuzz(new Uint8Array(readFileSync(join(here, 'corpus', name, f))));
    });
  });
}

describe('recorded seeds are valid sessions', () => {
  it('the demo stream, replayed through the fuzz rig, is answered OK throughout and draws the frame', async () => {
    const rig = new StreamRig({ renderer: () => new Renderer2D() });
    await rig.run(new Uint8Array(readFileSync(join(here, 'corpus/device-2d/demo-3-frames'))));
    await rig.settle();
    const errors = [...rig.driver.answers].filter(([type]) => type >= P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(errors).toEqual([]);
    expect(rig.driver.answered).toBeGreaterThan(40);
    expect(rig.driver.outstanding).toBe(0);
  });
});
