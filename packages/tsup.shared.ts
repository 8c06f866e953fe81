/**
 * How a package is built (tsup): one ESM and one CJS bundle of `src/index.ts` with types and
 * source maps, ES2022, no platform built-ins assumed. A package passes what it does differently.
 */
import type { Options } from 'tsup';

export function packageBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'neutral',
    ...overrides,
  };
}
