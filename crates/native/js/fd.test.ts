import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeFd } from '../test/native-available.js';
import {
  acceptUnix,
  closeFd,
  connectUnix,
  eventfdCreate,
  eventfdRead,
  eventfdWrite,
  isCloseOnExec,
  listenUnix,
  mapFd,
  memfdCreate,
  openFdCount,
  recvWithFds,
  sendWithFds,
  socketPair,
} from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'vgn-fd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Poll a non-blocking call until it yields (sockets here are local, so this is quick). */
async function until<T>(f: () => T | null, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describeFd('UNIX sockets with SCM_RIGHTS', () => {
  it('a vhost-user style message: 12-byte header with two memfds, then the payload', () => {
    const [a, b] = socketPair();
    const m1 = memfdCreate('region-0', 8192);
    const m2 = memfdCreate('region-1', 4096);
    const w = mapFd(m2, 0, 4096);
    w.bytes[100] = 0xab;
    const header = new Uint8Array(12);
    new DataView(header.buffer).setUint32(0, 5, true); // VHOST_USER_SET_MEM_TABLE
    new DataView(header.buffer).setUint32(8, 4, true); // payload size
    expect(sendWithFds(a, header, [m1, m2])).toBe(12);
    expect(sendWithFds(a, new Uint8Array([1, 2, 3, 4]))).toBe(4);

    const got = new Uint8Array(12);
    const r = recvWithFds(b, got, 8)!;
    expect(r.bytes).toBe(12);
    expect(r.truncated).toBe(false);
    expect(r.fds).toHaveLength(2);
    expect(new DataView(got.buffer).getUint32(0, true)).toBe(5);
    for (const fd of r.fds) expect(isCloseOnExec(fd)).toBe(true);
    const seen = mapFd(r.fds[1], 0, 4096);
    expect(seen.bytes[100]).toBe(0xab);
    const payload = new Uint8Array(4);
    expect(recvWithFds(b, payload, 0)).toEqual({ bytes: 4, fds: [], truncated: false });
    expect([...payload]).toEqual([1, 2, 3, 4]);

    seen.unmap();
    w.unmap();
    for (const fd of [a, b, m1, m2, ...r.fds]) closeFd(fd);
  });

  it('more fds than allowed -> truncated, and none of them leak', () => {
    const [a, b] = socketPair();
    const fds = [0, 1, 2, 3, 4].map((i) => memfdCreate(`m${i}`, 0));
    sendWithFds(a, new Uint8Array(12), fds);
    for (const fd of fds) closeFd(fd);
    const before = openFdCount();
    const r = recvWithFds(b, new Uint8Array(12), 2)!;
    expect(r).toEqual({ bytes: 12, fds: [], truncated: true });
    expect(openFdCount()).toBe(before);
    closeFd(a);
    closeFd(b);
  });

  it('nothing pending -> null; peer closed -> 0 bytes', () => {
    const [a, b] = socketPair();
    expect(recvWithFds(b, new Uint8Array(4))).toBeNull();
    closeFd(a);
    expect(recvWithFds(b, new Uint8Array(4))).toEqual({ bytes: 0, fds: [], truncated: false });
    closeFd(b);
  });

  it('listen replaces a stale socket; native connect + accept exchange bytes', () => {
    const path = join(dir, 'native.sock');
    closeFd(listenUnix(path));
    const l = listenUnix(path);
    expect(acceptUnix(l)).toBeNull();
    const c = connectUnix(path);
    const s = acceptUnix(l)!;
    expect(sendWithFds(c, new TextEncoder().encode('ping'))).toBe(4);
    const buf = new Uint8Array(8);
    expect(recvWithFds(s, buf)!.bytes).toBe(4);
    expect(new TextDecoder().decode(buf.subarray(0, 4))).toBe('ping');
    for (const fd of [c, s, l]) closeFd(fd);
  });

  it("Node's net client talks to a native listener (bytes only: net cannot pass fds)", async () => {
    const path = join(dir, 'net-client.sock');
    const l = listenUnix(path);
    const client = createConnection(path);
    await new Promise<void>((r) => client.once('connect', () => r()));
    const s = await until(() => acceptUnix(l));
    client.write('hello');
    const buf = new Uint8Array(16);
    const r = await until(() => recvWithFds(s, buf));
    expect(new TextDecoder().decode(buf.subarray(0, r.bytes))).toBe('hello');
    const echoed = new Promise<string>((res) => client.once('data', (d) => res(d.toString())));
    sendWithFds(s, new TextEncoder().encode('world'));
    expect(await echoed).toBe('world');
    client.destroy();
    closeFd(s);
    closeFd(l);
  });

  it("native connect reaches Node's net server", async () => {
    const path = join(dir, 'net-server.sock');
    const got = new Promise<string>((res) => {
      const server = createServer((sock) => sock.once('data', (d) => { res(d.toString()); sock.destroy(); server.close(); }));
      server.listen(path);
    });
    await new Promise((r) => setTimeout(r, 50));
    const c = connectUnix(path);
    sendWithFds(c, new TextEncoder().encode('from-native'));
    expect(await got).toBe('from-native');
    closeFd(c);
  });

  it('bad descriptors are refused with EBADF, never fd 0', () => {
    expect(() => closeFd(Number.NaN)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => closeFd(-1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => sendWithFds(1.5, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('a path that is a regular file is not replaced by listen', () => {
    const path = join(dir, 'plain-file');
    writeFileSync(path, 'x');
    expect(() => listenUnix(path)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });
});

describeFd('eventfd', () => {
  it('ping-pong: writes add up, a read resets, an empty read is null', () => {
    const e = eventfdCreate();
    expect(isCloseOnExec(e)).toBe(true);
    expect(eventfdRead(e)).toBeNull();
    eventfdWrite(e);
    eventfdWrite(e, 41);
    expect(eventfdRead(e)).toBe(42n);
    expect(eventfdRead(e)).toBeNull();
    closeFd(e);
  });

  it('two eventfds passed over a socket still signal each other (kick and call)', () => {
    const [a, b] = socketPair();
    const kick = eventfdCreate();
    sendWithFds(a, new Uint8Array(1), [kick]);
    const r = recvWithFds(b, new Uint8Array(1), 1)!;
    eventfdWrite(r.fds[0], 3);
    expect(eventfdRead(kick)).toBe(3n);
    for (const fd of [a, b, kick, ...r.fds]) closeFd(fd);
  });

  it('semaphore mode reads one at a time', () => {
    const e = eventfdCreate({ initial: 2, semaphore: true });
    expect(eventfdRead(e)).toBe(1n);
    expect(eventfdRead(e)).toBe(1n);
    expect(eventfdRead(e)).toBeNull();
    closeFd(e);
  });
});
