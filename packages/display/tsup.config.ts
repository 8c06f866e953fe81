import { defineConfig } from 'tsup';

// Two entries: index (browser-safe: no Node built-ins or globals) and node (file writing and the
// viewer server). ESM output shares their common code in chunks, so both see one Display class.
export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'node',
});
