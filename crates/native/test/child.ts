/**
 * Runs a script in a child Node process against the built package (dist/), for behaviour that
 * must be observed from outside: a crash (signal), or whether the event loop stays alive.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of the built ESM entry. */
export const DIST_ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** True when dist/ exists (turbo builds it before tests; a bare `vitest run` may not have). */
export const distBuilt = existsSync(DIST_ENTRY);

/** Outcome of a child run. */
export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Run `body` as an ES module in which `native` is the built package. `args` are extra node
 * flags (for example --expose-gc).
 */
export function runChild(body: string, options: { args?: string[]; timeoutMs?: number } = {}): ChildResult {
  const script = `import * as native from ${JSON.stringify(DIST_ENTRY)};\n${body}`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...(options.args ?? []), '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 20_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}
