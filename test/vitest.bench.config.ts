import { defineConfig } from 'vitest/config';
import { sharedConfig } from '../packages/vitest.shared';

/** `pnpm bench` here: the real-guest benchmarks (*.benchrun.ts), one file at a time. */
export default defineConfig({
  ...sharedConfig,
  test: { ...sharedConfig.test, include: ['bench/**/*.benchrun.ts'], testTimeout: 3_600_000, fileParallelism: false },
});
