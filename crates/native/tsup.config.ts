import { defineConfig } from 'tsup';
import { packageBuild } from '../../packages/tsup.shared';

// Node package: js/ holds the TypeScript (src/ is the Rust). import.meta.url is shimmed in the CJS
// build so the generated loader (../binding.cjs, a separate file loaded at run time) is found
// relative to dist/.
export default defineConfig(packageBuild({ entry: ['js/index.ts'], platform: 'node', shims: true, external: ['../binding.cjs'] }));
