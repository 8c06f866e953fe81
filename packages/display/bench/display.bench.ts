import { bench, describe } from 'vitest';
import { Display } from '../src/display.js';
import { DamageAccumulator } from '../src/damage.js';
import { FakeSource, squareCursor } from '../src/testing/fake-source.js';
import { encodeBinaryMessage, ViewerMsgKind } from '../src/viewer-protocol.js';

const W = 1920;
const H = 1080;
const source = new FakeSource();
source.setScanout(0, W, H);
const display = new Display({ source });
display.scanoutChanged(0, { resourceId: 1, width: W, height: H, r: { x: 0, y: 0, width: W, height: H } });
display.cursorChanged({ scanoutId: 0, x: 500, y: 400, hotX: 0, hotY: 0, resourceId: 2, image: squareCursor(32, [255, 255, 255, 128]) });
const surface = display.surface(0)!;

describe('display 1920x1080', () => {
  bench('flushed: 100 x 64x64 rects', () => {
    for (let i = 0; i < 100; i++) display.flushed(0, { x: (i * 97) % (W - 64), y: (i * 53) % (H - 64), width: 64, height: 64 });
    display.takeDamage(0);
  });

  bench('flushed: full screen', () => {
    display.flushed(0, { x: 0, y: 0, width: W, height: H });
  });

  bench('composite with cursor', () => {
    display.composite(0);
  });

  bench('encodeBinaryMessage: full screen', () => {
    encodeBinaryMessage({ kind: ViewerMsgKind.RECT, flags: 3, scanoutId: 0, seq: 1, x: 0, y: 0, width: W, height: H }, surface.data, surface.strideBytes, 0, 0);
  });

  bench('DamageAccumulator: 1000 random 8x8 rects', () => {
    const acc = new DamageAccumulator();
    let s = 1;
    for (let i = 0; i < 1000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      acc.add({ x: s % (W - 8), y: (s >>> 11) % (H - 8), width: 8, height: 8 });
    }
  });
});

describe('png', () => {
  const small = new FakeSource();
  small.setScanout(0, 640, 480);
  const d = new Display({ source: small });
  d.scanoutChanged(0, { resourceId: 1, width: 640, height: 480, r: { x: 0, y: 0, width: 640, height: 480 } });
  bench('toPng 640x480', () => {
    d.toPng(0);
  });
});
