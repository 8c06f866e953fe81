import { defineConfig } from 'tsup';
import { packageBuild } from '../tsup.shared';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts', 'src/node.ts'],
    external: ['v86'],
    // node.ts uses import.meta.url; the CommonJS build needs tsup's shim for it.
    shims: true,
  }),
);
