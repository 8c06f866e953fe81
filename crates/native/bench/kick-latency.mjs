/**
 * Kick -> JS callback latency of the readiness plumbing: an eventfd written (as QEMU writes a
 * vhost-user kick) until the watchFd callback runs on the JS thread (epoll thread wakes,
 * threadsafe function queues, libuv wakes the loop, callback). Two writers: the JS thread itself
 * (then returns to the loop) and a separate process (a real VMM's case, through a shared eventfd).
 * Run: node bench/kick-latency.mjs
 */
import { spawn } from 'node:child_process';
import { closeFd, eventfdCreate, eventfdRead, eventfdWrite, nativeStatus, watchFd } from '../dist/index.js';
import { fmtNs, pct, table } from './stats.mjs';

const st = nativeStatus();
if (!st.fdPlumbing) {
  console.log(`kick latency bench skipped: ${st.lacks.join('; ') || st.reason}`);
  process.exit(process.env.CI && process.platform === 'linux' ? 1 : 0);
}
const N = 3000;

/** JS writes the kick, returns to the event loop; time until the callback. */
async function selfKick() {
  const fd = eventfdCreate();
  const lat = [];
  let t0 = 0;
  let resolve;
  const w = watchFd(fd, () => {
    const dt = process.hrtime.bigint() - t0;
    eventfdRead(fd);
    lat.push(Number(dt));
    resolve();
  }, { ref: true });
  for (let i = 0; i < N; i++) {
    const got = new Promise((r) => (resolve = r));
    t0 = process.hrtime.bigint();
    eventfdWrite(fd);
    await got;
  }
  w.close();
  closeFd(fd);
  return lat.sort((a, b) => a - b).slice(Math.floor(N / 10)); // drop warm-up tail
}

/** A child process kicks an inherited eventfd at its own pace; the child reports its clock. */
async function otherProcessKick() {
  const fd = eventfdCreate();
  // The child writes the eventfd (fd 3 in it) and tells us when, on the same monotonic clock.
  const child = spawn(process.execPath, ['-e', `
    const fs = require('fs');
    const buf = Buffer.alloc(8); buf.writeBigUInt64LE(1n);
    process.stdin.on('data', () => { const t = process.hrtime.bigint(); fs.writeSync(3, buf); process.stdout.write(t + '\\n'); });
  `], { stdio: ['pipe', 'pipe', 'inherit', fd] });
  const lat = [];
  let sent = null;
  let got = null;
  let resolve;
  const check = () => {
    if (sent !== null && got !== null) {
      lat.push(Number(got - sent));
      sent = got = null;
      resolve();
    }
  };
  child.stdout.setEncoding('utf8');
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      sent = BigInt(buf.slice(0, i));
      buf = buf.slice(i + 1);
      check();
    }
  });
  const w = watchFd(fd, () => {
    got = process.hrtime.bigint();
    eventfdRead(fd);
    check();
  }, { ref: true });
  const n = N / 3;
  for (let i = 0; i < n; i++) {
    const p = new Promise((r) => (resolve = r));
    child.stdin.write('k');
    await p;
  }
  w.close();
  child.kill();
  closeFd(fd);
  return lat.sort((a, b) => a - b).slice(Math.floor(n / 10));
}

const self = await selfKick();
const other = await otherProcessKick();
const row = (name, l) => [name, fmtNs(pct(l, 50)), fmtNs(pct(l, 90)), fmtNs(pct(l, 99)), fmtNs(l[l.length - 1])];
table('kick -> JS callback latency (eventfd -> epoll thread -> threadsafe function -> callback)', [
  ['writer', 'p50', 'p90', 'p99', 'max'],
  row('same process (JS thread, back to the loop)', self),
  row('another process (shared eventfd)', other),
]);
