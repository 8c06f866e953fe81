import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['js/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'node',
  // import.meta.url in the CJS build (the loader is found relative to dist/).
  shims: true,
  // The generated loader stays a separate file next to dist/, loaded at run time.
  external: ['../binding.cjs'],
});
