/**
 * Runs a worst case (worst-case.ts) in a child process and measures it from outside: RSS sampled
 * from /proc/PID/status every 10 ms, the kernel's own high-water mark (VmHWM) read before the
 * child exits, and the child's GC'd heap numbers from its JSON lines.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** What one run measured. */
export interface Measured {
  scenario: string;
  /** The child's own result object (scenario-specific). */
  result: Record<string, number>;
  quota: number;
  /** RSS when the device, guest RAM and driver were ready (the 'baseline' mark). */
  baselineRss: number;
  /** VmHWM: the most RSS the process ever had. */
  peakRss: number;
  /** peakRss - baselineRss. */
  peakGrowth: number;
  /** Largest RSS seen by sampling. */
  sampledPeak: number;
  seconds: number;
}

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Run `scenario` with optional extra node flags; resolves when the child has reported and exited. */
export function measure(scenario: string, nodeFlags: string[] = []): Promise<Measured> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', ...nodeFlags, join(here, 'worst-case.ts'), scenario], {
    cwd: join(here, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const pid = child.pid!;
  let sampledPeak = 0;
  const sampler = setInterval(() => {
    try {
      sampledPeak = Math.max(sampledPeak, statusKb(pid, 'VmRSS'));
    } catch {
      // exited
    }
  }, 10);
  let baselineRss = 0;
  let buf = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as { mark?: string; result?: Record<string, number>; quota?: number };
        if (msg.mark === 'baseline') baselineRss = statusKb(pid, 'VmRSS');
        if (msg.result) {
          const peakRss = statusKb(pid, 'VmHWM');
          clearInterval(sampler);
          child.stdin.end();
          resolve({ scenario, result: msg.result, quota: msg.quota!, baselineRss, peakRss, peakGrowth: peakRss - baselineRss, sampledPeak, seconds: (Date.now() - t0) / 1000 });
        }
      }
    });
    child.on('exit', (code) => {
      clearInterval(sampler);
      reject(new Error(`worst case ${scenario} exited ${code} before reporting`));
    });
  });
}

/** Run from the command line: `tsx test/memory/measure.ts scattered [...]` prints the numbers. */
if (process.argv[1]?.endsWith('measure.ts')) {
  for (const s of process.argv.slice(2)) {
    const m = await measure(s);
    console.log(JSON.stringify(m));
  }
}
