/**
 * QEMU's reviewers found a use-after-free in its rutabaga device: a blob unmapped while a mapping
 * of it could still be touched. Touching a JS view of a rutabaga mapping after rutabaga unmapped
 * it segfaults the process (reproduced while building this), so this test tries exactly that, in
 * a child process, through every path that releases a mapping: UNMAP, UNREF while mapped, reset
 * while mapped, plus mapping twice. The child must exit 0 with every stale view empty.
 */
import { expect, it } from 'vitest';
import { DIST_ENTRY, distBuilt, runChild } from '../test/child.js';
import { describeFd } from '../test/native-available.js';

const CHILD = `
const r = new native.RutabagaRenderer({ crossDomain: true });
r.setFenceHandler(() => {});
const ring = new Uint8Array(new SharedArrayBuffer(4096));
const must = (res, what) => { if (!res.ok) throw new Error(what + ': ' + res.why); return res.value; };
must(r.createContext(1, 5, 'uaf'), 'ctx');
must(r.createBlob(100, { ctxId: 0, blobMem: 1, blobFlags: 1, blobId: 0n, size: 4096, backing: { iovecs: [ring], starts: [0], size: 4096 } }), 'ring');
must(r.contextAttachResource(1, 100), 'attach');
const cmd = (words, size) => { const b = new Uint8Array(size); const dv = new DataView(b.buffer); words.forEach((w, i) => dv.setUint32(i * 4, w, true)); return b; };
must(r.submit(1, cmd([1 | (20 << 16), 0, 100, 100, 0], 20), null), 'init');
must(r.submit(1, cmd([2 | (24 << 16), 0, 256, 256, 0x34325258, 0], 24), null), 'requirements');
must(r.createFence({ fenceId: 1n, ctxId: 1, ringIdx: 0, ringed: true }), 'fence');
const dv = new DataView(ring.buffer);
const size = Number(dv.getBigUint64(40, true)), blobId = dv.getUint32(48, true);
const create = (id) => must(r.createBlob(id, { ctxId: 1, blobMem: 2, blobFlags: 1, blobId: BigInt(blobId), size, backing: null }), 'blob');
const map = (id) => must(r.mapBlob(id), 'map').iovecs[0];
const stale = [];
const touch = (v) => { let s = 0; for (let i = 0; i < size; i += 4096) { s += v[i] ?? 0; v[i] = 7; } stale.push(v.byteLength); return s; };

create(7);
let v = map(7); v.fill(1);
r.unmapBlob(7); touch(v);                                   // UNMAP_BLOB, then touch

v = map(7); v.fill(2);
const twice = r.mapBlob(7);                                 // a second map would drop the first
if (twice.ok) throw new Error('mapped twice');
if (v.byteLength !== size || v[0] !== 2) throw new Error('first mapping disturbed');
r.destroyResource(7); touch(v);                             // UNREF while mapped

create(8); v = map(8); v.fill(3);
const dvStale = new DataView(v.buffer);
r.reset(); touch(v);                                        // device reset while mapped
let threw = false; try { dvStale.getUint8(0); } catch { threw = true; }

// New mappings may reuse the freed addresses; the stale views must still reach nothing.
must(r.createContext(1, 5, 'again'), 'ctx2');
for (let i = 0; i < 4; i++) { globalThis.gc?.(); new Uint8Array(1 << 20).fill(9); }
console.log(JSON.stringify({ stale, twiceRefused: !twice.ok, dataViewThrew: threw, last: v[0] ?? null }));
`;

describeFd('host blob mappings cannot be used after free', () => {
  it.runIf(distBuilt || process.env.CI)('unmap, unref and reset of a mapped blob leave stale views empty; the child exits 0', () => {
    expect(distBuilt, `${DIST_ENTRY} missing: build the package first`).toBe(true);
    const r = runChild(CHILD, { args: ['--expose-gc'] });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ stale: [0, 0, 0], twiceRefused: true, dataViewThrew: true, last: null });
  });
});
