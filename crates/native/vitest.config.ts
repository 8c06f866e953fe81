import { defineConfig } from 'vitest/config';
import { sharedConfig } from '../../packages/vitest.shared';

export default defineConfig({
  ...sharedConfig,
  test: { ...sharedConfig.test, include: ['js/**/*.test.ts', 'test/**/*.test.ts'] },
});
