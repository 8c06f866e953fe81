import { defineConfig } from 'tsup';
import { packageBuild } from '../tsup.shared';

// Two entries: index (browser-safe: no Node built-ins or globals) and node (file writing and the
// viewer server). ESM output shares their common code in chunks, so both see one Display class.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/node.ts'], platform: 'node' }));
