/**
 * Shared vitest settings: resolve workspace packages to their TypeScript sources (the "source"
 * export condition) so a package's tests run against its neighbours' current code, not a stale dist.
 */
const conditions = ['source', 'module', 'node', 'import', 'default'];

export const sharedConfig = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', '*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
};
