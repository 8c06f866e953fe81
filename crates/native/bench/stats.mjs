/**
 * Timing helpers of the native benches (plain Node on the built code: vitest's transform would
 * distort whole-path numbers). Best and median of several samples; ratios from one run.
 */

/** Run `f` (one op) `n` times per sample, `samples` samples after a warm-up; ns per op. */
export function timeOps(f, { n = 1, samples = 9, warmupMs = 200 } = {}) {
  const end = performance.now() + warmupMs;
  while (performance.now() < end) f();
  const per = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    per.push(((performance.now() - t0) * 1e6) / n);
  }
  per.sort((a, b) => a - b);
  return { best: per[0], median: per[per.length >> 1] };
}

// The workspace's one percentile and table printer (the device benches' harness).
export { percentile as pct, printTable as table } from '../../../packages/device/bench/harness.mjs';

/** ns -> "12.3 µs" / "1.23 ms". */
export function fmtNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}
