/**
 * What one call across the napi boundary costs, on the built binding: a no-op, a call carrying a
 * Uint8Array, a method on a wrapped class (`this` unwrap), and rutabaga's shortest real call (a
 * 1x1 transfer) against the TS renderer's. Run: node bench/napi-crossing.mjs
 */
import { Backing, Renderer2D } from '@virtio-gpu/device';
import { loadBinding, nativeStatus, RutabagaRenderer } from '../dist/index.js';
import { fmtNs, table, timeOps } from './stats.mjs';

const st = nativeStatus();
if (!st.available) {
  console.log(`napi bench skipped: ${st.reason}`);
  process.exit(process.env.CI ? 1 : 0);
}
const b = loadBinding().binding;
const bytes = new Uint8Array(4096);
const n = 200_000;
const jsNoop = (x) => x;
const noop = timeOps(() => b.noop(), { n });
const withBytes = timeOps(() => b.touchBytes(bytes), { n });
const sevenArgs = timeOps(() => b.noopTransferArgs(1, 1, 1, 1, 1, 1, 260), { n });
const js = timeOps(() => jsNoop(bytes), { n });
const core = new b.RutabagaCore({ crossDomain: false }, () => {});
const method = timeOps(() => core.heldBackings(), { n });
const h = core.handle;
const fn = timeOps(() => b.rutabagaTakeFences(h), { n });

const ram = new Uint8Array(new SharedArrayBuffer(64 * 64 * 4));
const mk = (r) => {
  r.setFenceHandler(() => {});
  r.createResource2d(1, { format: 2, width: 64, height: 64 });
  r.attachBacking(1, new Backing([ram]));
  return r;
};
const [ts, rb] = [mk(new Renderer2D()), mk(new RutabagaRenderer())];
const one = { x: 1, y: 1, width: 1, height: 1 };
const t1 = timeOps(() => ts.transferToHost2d(1, one, 260), { n: n / 4 });
const r1 = timeOps(() => rb.transferToHost2d(1, one, 260), { n: n / 4 });

table('one call across the napi boundary (best)', [
  ['call', 'time', 'vs JS call'],
  ['plain JS function call', fmtNs(js.best), '1.00x'],
  ['napi noop()', fmtNs(noop.best), `${(noop.best / js.best).toFixed(1)}x`],
  ['napi touchBytes(Uint8Array)', fmtNs(withBytes.best), `${(withBytes.best / js.best).toFixed(1)}x`],
  ["napi function with a transfer's 7 numbers, no work", fmtNs(sevenArgs.best), `${(sevenArgs.best / js.best).toFixed(1)}x`],
  ['napi class method, returns a number (napi-rs borrow table)', fmtNs(method.best), `${(method.best / js.best).toFixed(1)}x`],
  ['napi function on a handle, returns [] (rutabagaTakeFences)', fmtNs(fn.best), `${(fn.best / js.best).toFixed(1)}x`],
  ['TS renderer 1x1 transfer', fmtNs(t1.best), ''],
  ['rutabaga 1x1 transfer (crossing + rutabaga)', fmtNs(r1.best), `${(r1.best / t1.best).toFixed(2)}x TS`],
]);
