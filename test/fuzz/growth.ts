/**
 * Prints coverage growth from `pnpm fuzz --json FILE` summaries: counters covered at 1, 5, 10,
 * 30 and 60 s per target, one column per file (e.g. a guided run and a --no-feedback baseline).
 *   tsx test/fuzz/growth.ts guided.json unguided.json
 */
import { readFileSync } from 'node:fs';

interface Summary {
  target: string;
  final: { runs: number; ms: number; covered: number; counters: number; corpus: number };
  growth: { ms: number; covered: number; runs: number }[];
}

const files = process.argv.slice(2);
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Summary[]);
const marks = [1, 5, 10, 30, 60];
const at = (s: Summary, sec: number): string => {
  let best: { covered: number } | null = null;
  for (const g of s.growth) if (g.ms <= sec * 1000 + 250) best = g;
  return best ? String(best.covered) : '-';
};
console.log(`| target | run | runs | exec/s | ${marks.map((m) => `${m} s`).join(' | ')} | counters |`);
console.log(`|---|---|---|---|${marks.map(() => '---').join('|')}|---|`);
for (const s of runs[0]) {
  runs.forEach((r, i) => {
    const x = r.find((y) => y.target === s.target);
    if (!x) return;
    const rate = Math.round((x.final.runs * 1000) / x.final.ms);
    console.log(`| ${s.target} | ${files[i].replace(/^.*run-|\.json$/g, '')} | ${x.final.runs} | ${rate} | ${marks.map((m) => at(x, m)).join(' | ')} | ${x.final.counters} |`);
  });
}
