import { MessageChannel } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { describeFd } from '../test/native-available.js';
import { DIST_ENTRY, distBuilt, runChild } from '../test/child.js';
import { closeFd, mapFd, mappingCount, memfdCreate } from './index.js';

describeFd('mapFd / MappedRegion', () => {
  it('two mappings of one memfd share bytes, without copies', () => {
    const fd = memfdCreate('ram', 3 * 4096);
    const whole = mapFd(fd, 0, 3 * 4096);
    const tail = mapFd(fd, 4096n, 2 * 4096);
    whole.bytes[4096 + 10] = 77;
    expect(tail.bytes[10]).toBe(77);
    tail.bytes[0] = 5;
    expect(whole.bytes[4096]).toBe(5);
    whole.unmap();
    tail.unmap();
    closeFd(fd);
  });

  it('an unaligned offset (vhost-user mmap_offset) maps from that byte', () => {
    const fd = memfdCreate('ram', 8192);
    const whole = mapFd(fd, 0, 8192);
    whole.bytes[4100] = 9;
    const part = mapFd(fd, 4100, 16);
    expect(part.size).toBe(16);
    expect(part.bytes.byteLength).toBe(16);
    expect(part.bytes[0]).toBe(9);
    part.unmap();
    whole.unmap();
    closeFd(fd);
  });

  it('unmap detaches every view first: views read length 0 and nothing else', () => {
    const fd = memfdCreate('ram', 4096);
    const r = mapFd(fd, 0, 4096);
    const view = r.bytes.subarray(100, 200);
    const dv = new DataView(r.buffer);
    const before = mappingCount();
    r.unmap();
    expect(mappingCount()).toBe(before - 1);
    expect(r.mapped).toBe(false);
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(() => dv.getUint8(0)).toThrow(TypeError);
    expect(() => r.bytes).toThrow(expect.objectContaining({ code: 'ERR_NOT_MAPPED' }));
    r.unmap(); // second call: nothing
    closeFd(fd);
  });

  it('the buffer cannot be transferred to another thread (it would escape unmap)', () => {
    const fd = memfdCreate('ram', 4096);
    const r = mapFd(fd, 0, 4096);
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(r.buffer, [r.buffer]);
    } catch {
      // Refused outright: also fine.
    }
    expect(r.bytes.byteLength).toBe(4096);
    port1.close();
    port2.close();
    r.unmap();
    closeFd(fd);
  });

  it('bad arguments are refused', () => {
    const fd = memfdCreate('ram', 4096);
    expect(() => mapFd(fd, 0, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => mapFd(fd, -1, 4096)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => mapFd(fd, 2n ** 60n, 4096)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => mapFd(-3, 0, 4096)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    closeFd(fd);
  });

  it.runIf(distBuilt || process.env.CI)('touching views after unmap cannot crash the process (child exits 0, no signal)', () => {
    expect(distBuilt, `${DIST_ENTRY} missing: build the package first`).toBe(true);
    const r = runChild(`
      const fd = native.memfdCreate('ram', 1 << 20);
      const region = native.mapFd(fd, 0, 1 << 20);
      const views = [region.bytes, region.bytes.subarray(4096), new Uint32Array(region.buffer, 8192, 16), new DataView(region.buffer)];
      region.bytes.fill(0x5a);
      region.unmap();
      let sum = 0;
      for (let i = 0; i < 1 << 20; i += 4096) sum += views[0][i] ?? 0;   // reads: undefined
      views[1][0] = 1; views[2][3] = 7;                                      // writes: ignored
      for (const v of views.slice(0, 3)) if (v.length !== 0) throw new Error('view not detached');
      let threw = 0;
      try { views[3].getUint8(0); } catch { threw++; }
      try { new Uint8Array(views[0].buffer); } catch { threw++; }
      try { region.bytes; } catch { threw++; }
      // A fresh mapping may reuse the address: the old views must still see nothing.
      const again = native.mapFd(fd, 0, 1 << 20);
      again.bytes.fill(1);
      if (views[0][0] !== undefined) throw new Error('stale view sees new memory');
      again.unmap();
      console.log(JSON.stringify({ sum, threw }));`);
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ sum: 0, threw: 3 });
  });

  it.runIf(distBuilt || process.env.CI)('a peer shrinking an unsealable file under a mapping cannot crash the process (no SIGBUS)', () => {
    expect(distBuilt, `${DIST_ENTRY} missing: build the package first`).toBe(true);
    // A plain file cannot be sealed (unlike memfdCreate's memfds), as a frontend's tmpfs or
    // hugetlbfs guest RAM cannot: its owner may truncate it at any time.
    const r = runChild(`
      const fs = await import('node:fs');
      const path = (await import('node:os')).tmpdir() + '/vgpu-shrink-' + process.pid;
      const fd = fs.openSync(path, 'w+');
      fs.unlinkSync(path);
      fs.ftruncateSync(fd, 4 * 4096);
      const region = native.mapFd(fd, 0, 4 * 4096);
      region.bytes.fill(0x5a);
      const before = region.truncated;
      fs.ftruncateSync(fd, 4096);
      const last = region.bytes[4 * 4096 - 1];   // past the new end: SIGBUS without the guard
      const first = region.bytes[0];             // the whole mapping was replaced with zeros
      region.bytes[100] = 1;                     // writes land in private memory, not the file
      const file = Buffer.alloc(1);
      fs.readSync(fd, file, 0, 1, 100);
      const after = region.truncated;
      region.unmap();
      console.log(JSON.stringify({ before, last, first, after, file: file[0], unmapped: region.truncated }));`);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ before: false, last: 0, first: 0, after: true, file: 0x5a, unmapped: false });
  });

  it.runIf(distBuilt || process.env.CI)('the harness above would see a crash: a child killed by SIGSEGV reports the signal', () => {
    const r = runChild(`process.kill(process.pid, 'SIGSEGV');`);
    expect(r.signal).toBe('SIGSEGV');
    expect(r.status).toBeNull();
  });

  it.runIf(distBuilt || process.env.CI)('a region dropped without unmap is unmapped by the GC finaliser', () => {
    const r = runChild(`
      const fd = native.memfdCreate('ram', 4096);
      const before = native.mappingCount();
      (() => { const region = native.mapFd(fd, 0, 4096); region.bytes[0] = 1; })();
      const mapped = native.mappingCount();
      for (let i = 0; i < 20 && native.mappingCount() !== before; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      console.log(JSON.stringify({ before, mapped, after: native.mappingCount() }));`, { args: ['--expose-gc'] });
    expect(r.status, r.stderr).toBe(0);
    const { before, mapped, after } = JSON.parse(r.stdout);
    expect(mapped).toBe(before + 1);
    expect(after).toBe(before);
  });
});
