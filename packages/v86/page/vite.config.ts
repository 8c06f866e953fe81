import { defineConfig } from 'vite';

/** Builds the page into ../dist-page; workspace packages resolve to their TypeScript sources. */
export default defineConfig({
  root: __dirname,
  base: './',
  logLevel: 'warn',
  resolve: { conditions: ['source', 'module', 'browser', 'import', 'default'] },
  build: { outDir: '../dist-page', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
});
