import { describe, expect, it } from 'vitest';
import { type FdSocket, type Received } from './host.js';
import { MessageReader, MessageWriter } from './framing.js';

/** A socket whose reads come from a script: each entry is what one recv returns. */
class ScriptedSocket implements FdSocket {
  sent: { data: Uint8Array; fds: readonly number[] }[] = [];
  /** Bytes send() accepts per call (null entries: the socket is full). */
  sendRoom: (number | null)[] = [];
  writable: (() => void) | null = null;
  constructor(public reads: (Received | null)[] = []) {}
  recv(buf: Uint8Array): Received | null {
    const r = this.reads.shift() ?? null;
    if (!r) return null;
    const chunk = (r as Received & { data?: Uint8Array }).data;
    if (chunk) buf.set(chunk.subarray(0, r.bytes));
    return r;
  }
  send(data: Uint8Array, fds: readonly number[] = []): number | null {
    const room = this.sendRoom.length ? this.sendRoom.shift()! : Infinity;
    if (room === null) return null;
    const n = Math.min(room, data.byteLength);
    this.sent.push({ data: data.slice(0, n), fds });
    return n;
  }
  onReadable(): void {}
  onWritable(cb: (() => void) | null): void {
    this.writable = cb;
  }
  close(): void {}
}

function header(request: number, flags: number, size: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, request, true);
  v.setUint32(4, flags, true);
  v.setUint32(8, size, true);
  return b;
}
const rd = (data: Uint8Array, fds: number[] = [], truncated = false) => ({ bytes: data.byteLength, fds, truncated, data }) as Received;

function reader(sock: ScriptedSocket, maxFds = 8, limit = 1024) {
  const closed: number[] = [];
  const r = new MessageReader(sock, maxFds, (_q, _f, size) => (size > limit ? `too big: ${size}` : null), (fd) => closed.push(fd));
  return { r, closed };
}

describe('MessageReader', () => {
  it('a header split over three reads, then the payload in two; fds stay with their message', () => {
    const h = header(5, 1, 6);
    const s = new ScriptedSocket([rd(h.subarray(0, 5), [40, 41]), rd(h.subarray(5, 7)), null]);
    const { r } = reader(s);
    expect(r.next()).toBe('again');
    s.reads.push(rd(h.subarray(7)), rd(new Uint8Array([1, 2])), rd(new Uint8Array([3, 4, 5, 6])));
    const f = r.next();
    if (typeof f !== 'object' || 'error' in f) throw new Error(String(f));
    expect(f).toMatchObject({ request: 5, flags: 1, fds: [40, 41] });
    expect([...f.payload]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('two messages back to back; the second carries its own fds', () => {
    const s = new ScriptedSocket([rd(header(1, 1, 0)), rd(header(12, 1, 8), [7]), rd(new Uint8Array(8))]);
    const { r } = reader(s);
    expect(r.next()).toMatchObject({ request: 1, fds: [] });
    expect(r.next()).toMatchObject({ request: 12, fds: [7] });
    expect(r.next()).toBe('again');
  });

  it('descriptors arriving in the middle of a payload -> error, all of them closed', () => {
    const s = new ScriptedSocket([rd(header(5, 1, 8), [3]), rd(new Uint8Array(4), [9, 10])]);
    const { r, closed } = reader(s);
    expect(r.next()).toEqual({ error: 'descriptors in the middle of a message' });
    expect(closed.sort((a, b) => a - b)).toEqual([3, 9, 10]);
  });

  it('descriptors on the second part of a header -> error', () => {
    const h = header(1, 1, 0);
    const s = new ScriptedSocket([rd(h.subarray(0, 4)), rd(h.subarray(4), [5])]);
    const { r, closed } = reader(s);
    expect(r.next()).toMatchObject({ error: /middle/ });
    expect(closed).toEqual([5]);
  });

  it('truncated control data (too many fds) -> error', () => {
    const s = new ScriptedSocket([{ bytes: 12, fds: [], truncated: true, data: header(5, 1, 0) } as Received]);
    expect(reader(s).r.next()).toMatchObject({ error: /more descriptors/ });
  });

  it('a payload larger than allowed is refused before it is read', () => {
    const s = new ScriptedSocket([rd(header(5, 1, 5000), [8])]);
    const { r, closed } = reader(s);
    expect(r.next()).toEqual({ error: 'too big: 5000' });
    expect(closed).toEqual([8]);
    expect(s.reads).toHaveLength(0);
  });

  it('end of stream: clean between messages, an error inside one', () => {
    expect(reader(new ScriptedSocket([rd(new Uint8Array(0))])).r.next()).toBe('eof');
    const h = header(1, 1, 4);
    expect(reader(new ScriptedSocket([rd(h.subarray(0, 6)), rd(new Uint8Array(0))])).r.next()).toMatchObject({ error: /inside a message header/ });
    expect(reader(new ScriptedSocket([rd(h), rd(new Uint8Array(0))])).r.next()).toMatchObject({ error: /inside a message payload/ });
  });
});

describe('MessageWriter', () => {
  it('writes what fits, finishes a message before the next, fds only on its first byte', () => {
    const s = new ScriptedSocket();
    s.sendRoom = [3, null];
    let drained = 0;
    const w = new MessageWriter(s, () => drained++, () => {});
    w.send(new Uint8Array([1, 2, 3, 4, 5]), [9]);
    w.send(new Uint8Array([6, 7]));
    expect(w.queuedBytes).toBe(4);
    expect(s.sent).toEqual([{ data: new Uint8Array([1, 2, 3]), fds: [9] }]);
    expect(s.writable).not.toBeNull();
    s.writable!();
    expect(s.sent.slice(1)).toEqual([
      { data: new Uint8Array([4, 5]), fds: [] },
      { data: new Uint8Array([6, 7]), fds: [] },
    ]);
    expect(w.queuedBytes).toBe(0);
    expect(drained).toBe(1);
  });

  it('a failing socket reports once and stops', () => {
    const s = new ScriptedSocket();
    s.send = () => {
      throw new Error('EPIPE');
    };
    const errors: string[] = [];
    const w = new MessageWriter(s, () => {}, (e) => errors.push(e));
    w.send(new Uint8Array(4));
    w.send(new Uint8Array(4));
    expect(errors).toEqual(['EPIPE']);
  });
});
