/**
 * Timing helpers for the standalone whole-path benches (plain Node, built dist code).
 *
 * Why standalone and not vitest bench: vitest's module transform makes these hot paths 3-5x
 * slower than the bundles users run, so whole-path numbers are taken from `dist/` by plain node.
 * The scripts are named *.mjs, not *.bench.mjs, so `vitest bench` does not collect them.
 *
 * Method: warm up, then calibrate how many units (a unit is one batch of commands) fill a sample
 * of about `sampleMs`, then take `samples` samples and report the best and the median per-op
 * time. The best is the machine's capability, the median what a busy shared machine gives.
 */

/** High-resolution clock in nanoseconds (a double; sub-microsecond resolution in Node). */
export function nowNs() {
  return performance.now() * 1e6;
}

/**
 * Measures `run(units)`, which performs `units` units of `opsPerUnit` operations each and returns
 * the nanoseconds it spent on the part being measured (so a bench can leave refill work out).
 * Returns per-op nanoseconds: { best, median, samples }.
 */
export function measure(run, { opsPerUnit, warmupMs = 300, sampleMs = 60, samples = 11 } = {}) {
  // Warm up until the JIT has settled (several hundred ms of the real loop).
  let units = 1;
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) {
    const ns = run(units);
    if (ns < sampleMs * 1e6 * 0.5) units *= 2;
  }
  // Calibrate so one sample lasts about sampleMs.
  const probe = Math.max(run(units), 1);
  units = Math.max(1, Math.round((units * sampleMs * 1e6) / probe));
  const perOp = [];
  for (let i = 0; i < samples; i++) perOp.push(run(units) / (units * opsPerUnit));
  perOp.sort((a, b) => a - b);
  return { best: perOp[0], median: perOp[perOp.length >> 1], samples: perOp };
}

/** Percentile (0..100) of an ascending-sorted array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Prints rows as an aligned text table. `rows` are arrays of cells; the first row is the header. */
export function printTable(title, rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  console.log(`\n${title}`);
  rows.forEach((r, i) => {
    console.log(r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

/** `1234567` -> `1.23 M`. */
export function fmtRate(perSecond) {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(0);
}
