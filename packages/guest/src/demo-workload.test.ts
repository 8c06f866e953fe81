import { describe, expect, test } from 'vitest';
import { cursorPath } from './demo-workload';

describe('demo workload geometry', () => {
  test('the cursor path stays inside every scanout size the demo accepts', () => {
    for (const [w, h] of [[64, 64], [100, 70], [800, 600], [1920, 1080]] as const) {
      for (let n = 0; n < 2000; n += 7) {
        const [x, y] = cursorPath(n, w, h);
        expect(x >= 0 && x < w && y >= 0 && y < h, `${w}x${h} frame ${n}: ${x},${y}`).toBe(true);
      }
    }
  });
});
