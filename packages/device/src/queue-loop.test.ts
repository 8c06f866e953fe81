/**
 * No re-entry: a kick that arrives while the device is processing (here from inside the
 * display's sink callback) only marks the queue; the running loop answers the chains it finds
 * after the current one, in ring order, with their own decoded commands.
 */
import * as P from '@virtio-gpu/protocol';
import type { Rect } from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../test/cmd.js';
import { RecordingSink, Rig } from '../test/rig.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;

/** A sink that runs `onFlush` (once) from inside the first flush it is told about. */
function kickingSink(onFlush: () => void) {
  const flushes: { scanoutId: number; damage: Rect }[] = [];
  let done = false;
  const sink = new (class extends RecordingSink {
    override flushed(scanoutId: number, damage: Rect): void {
      flushes.push({ scanoutId, damage });
      if (!done) {
        done = true;
        onFlush();
      }
    }
  })();
  return { sink, flushes };
}

describe('queue loop: no re-entry', () => {
  it('a sink that kicks the queue mid-command: the kick is answered after the current chain, in ring order', () => {
    // Two scanouts show resource 1; FLUSH A reports scanout 0, and that sink call kicks the queue.
    // FLUSH B must not run inside A's handler: A reports both scanouts, then B does.
    let rig: Rig | undefined;
    const { sink, flushes } = kickingSink(() => rig!.device.notify(0));
    rig = new Rig({ sink, scanouts: [{ width: 64, height: 64 }, { width: 64, height: 64 }] });
    rig.resource2d(1, 64, 64);
    rig.send(C.setScanout(0, 1, rect(0, 0, 64, 64)));
    rig.send(C.setScanout(1, 1, rect(0, 0, 64, 64)));
    const before = rig.control.used.length;
    const a = rig.enqueue(C.flush(1, rect(0, 0, 8, 8)));
    const b = rig.enqueue(C.flush(1, rect(16, 16, 4, 4)));
    rig.device.notify(0);
    expect(rig.responseFor(a)?.type).toBe(OKT);
    expect(rig.responseFor(b)?.type).toBe(OKT);
    expect(flushes).toEqual([
      { scanoutId: 0, damage: rect(0, 0, 8, 8) },
      { scanoutId: 1, damage: rect(0, 0, 8, 8) },
      { scanoutId: 0, damage: rect(16, 16, 4, 4) },
      { scanoutId: 1, damage: rect(16, 16, 4, 4) },
    ]);
    expect(rig.usedHeads().slice(before)).toEqual([a, b]);
  });

  it('a chain made available and kicked from inside a handler is answered in the same notify, after the current one', () => {
    let rig: Rig | undefined;
    let c = -1;
    const { sink } = kickingSink(() => {
      c = rig!.enqueue(C.displayInfo());
      rig!.device.notify(0);
      // Marked, not run: the current FLUSH has not been answered yet, nor has C.
      expect(rig!.responseFor(c)).toBeUndefined();
    });
    rig = new Rig({ sink, scanouts: [{ width: 64, height: 64 }] });
    rig.resource2d(1, 64, 64);
    rig.send(C.setScanout(0, 1, rect(0, 0, 64, 64)));
    const before = rig.control.used.length;
    const a = rig.enqueue(C.flush(1, rect(0, 0, 8, 8)));
    const b = rig.enqueue(C.create2d(2, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4));
    rig.device.notify(0);
    expect(rig.usedHeads().slice(before)).toEqual([a, b, c]);
    expect(rig.responseFor(c)?.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  });

  it('a cursor kick from inside a control command runs after the control queue drains, one interrupt each', () => {
    let rig: Rig | undefined;
    let m = -1;
    const { sink } = kickingSink(() => {
      m = rig!.enqueue(C.moveCursor(0, 3, 4), { queue: 1 });
      rig!.device.notify(1);
      expect(sink.cursors).toHaveLength(0);
    });
    rig = new Rig({ sink, scanouts: [{ width: 64, height: 64 }] });
    rig.resource2d(1, 64, 64);
    rig.send(C.setScanout(0, 1, rect(0, 0, 64, 64)));
    rig.interrupts.length = 0;
    const a = rig.enqueue(C.flush(1, rect(0, 0, 8, 8)));
    rig.device.notify(0);
    expect(rig.responseFor(a)?.type).toBe(OKT);
    expect(rig.responseFor(m, 1)?.type).toBe(OKT);
    expect(sink.cursors.map((c) => [c.x, c.y])).toEqual([[3, 4]]);
    expect(rig.interrupts).toEqual([
      { cause: 'queue', queue: 0 },
      { cause: 'queue', queue: 1 },
    ]);
  });
});
