/**
 * Builds a fuzz target for the engine: esbuild bundles the target with the workspace packages'
 * TypeScript sources (the `source` export condition, as the tests use), then istanbul
 * instruments the bundle so every statement, function and branch arm counts its executions into
 * `globalThis.__fuzzCoverage`. The engine itself is bundled without instrumentation: its own
 * random choices must not look like coverage.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createInstrumenter } from 'istanbul-lib-instrument';
import { COVERAGE_VAR } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const ROOT = resolve(here, '../../..');
/** Where built targets go (git-ignored). */
export const BUILD_DIR = join(ROOT, '.cache/fuzz');

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['source'],
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

/** Bundle and instrument `entry`; returns the path of the CommonJS file to require. */
export async function buildInstrumented(entry: string): Promise<string> {
  const code = await bundle(entry);
  const key = createHash('sha1').update(code).digest('hex').slice(0, 16);
  const out = join(BUILD_DIR, `target-${key}.cjs`);
  try {
    readFileSync(out);
    return out;
  } catch {
    // not built yet
  }
  const instrumenter = createInstrumenter({ coverageVariable: COVERAGE_VAR, compact: true, esModules: false, produceSourceMap: false });
  const instrumented = instrumenter.instrumentSync(code, out);
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(out, instrumented);
  return out;
}

/** Bundle `entry` as it is (the engine's worker). */
export async function buildPlain(entry: string, name: string): Promise<string> {
  const code = await bundle(entry);
  mkdirSync(BUILD_DIR, { recursive: true });
  const out = join(BUILD_DIR, `${name}.cjs`);
  writeFileSync(out, code);
  return out;
}
