/**
 * Resizing QEMU's display from outside, the way a UI does: QEMU's D-Bus display
 * (`-display dbus,p2p=yes`) takes a peer connection handed over QMP (`getfd` with the socket
 * attached by SCM_RIGHTS, then `add_client` protocol "@dbus-display"), and its
 * org.qemu.Display1.Console.SetUIInfo becomes the console's UI info: virtio-gpu raises a
 * display-change event and answers GET_DISPLAY_INFO with the new size.
 *
 * (QEMU's VNC server has the same request, but QEMU refuses `-vnc` with vhost-user-gpu-pci:
 * "The console requires display DMABUF support". The D-Bus display has DMABUF support and needs
 * no GL to start.)
 *
 * The D-Bus side is a minimal client: EXTERNAL authentication and one METHOD_CALL, marshalled by
 * hand (D-Bus specification, "Message Protocol"), little-endian.
 */
import { closeFd, connectUnix, recvWithFds, sendWithFds, socketPair } from '@virtio-gpu/native';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Reads from a non-blocking fd until `done(text)` holds. */
async function readUntil(fd: number, done: (all: Buffer) => boolean, what: string, ms = 10_000): Promise<Buffer> {
  const end = Date.now() + ms;
  let all = Buffer.alloc(0);
  const buf = new Uint8Array(4096);
  for (;;) {
    const r = recvWithFds(fd, buf, 0);
    if (r && r.bytes === 0) throw new Error(`${what}: connection closed`);
    if (r) all = Buffer.concat([all, Buffer.from(buf.subarray(0, r.bytes))]);
    if (done(all)) return all;
    if (Date.now() > end) throw new Error(`${what}: no answer (${all.toString('latin1').slice(0, 200)})`);
    if (!r) await sleep(10);
  }
}

async function sendAll(fd: number, data: Uint8Array, fds: number[] = []): Promise<void> {
  let off = 0;
  while (off < data.byteLength) {
    const n = sendWithFds(fd, data.subarray(off), off === 0 ? fds : []);
    if (n === null) await sleep(5);
    else off += n;
  }
}

/** One QMP command on a fresh connection to `qmpPath` (optionally with an fd attached). */
async function qmpWithFd(qmpPath: string, commands: { execute: string; arguments?: unknown; fd?: number }[]): Promise<void> {
  const fd = connectUnix(qmpPath);
  try {
    await readUntil(fd, (b) => b.includes('"QMP"'), 'QMP greeting');
    const run = async (c: { execute: string; arguments?: unknown; fd?: number }) => {
      await sendAll(fd, Buffer.from(`${JSON.stringify({ execute: c.execute, arguments: c.arguments })}\n`), c.fd === undefined ? [] : [c.fd]);
      const out = await readUntil(fd, (b) => /"(return|error)"/.test(b.toString()), `QMP ${c.execute}`);
      if (out.includes('"error"')) throw new Error(`QMP ${c.execute}: ${out.toString()}`);
    };
    await run({ execute: 'qmp_capabilities' });
    for (const c of commands) await run(c);
  } finally {
    closeFd(fd);
  }
}

/** D-Bus wire writer: little-endian, alignment relative to the message start. */
class Marshal {
  private bytes: number[] = [];
  pad(n: number): void {
    while (this.bytes.length % n !== 0) this.bytes.push(0);
  }
  u8(v: number): void {
    this.bytes.push(v & 255);
  }
  u16(v: number): void {
    this.pad(2);
    this.bytes.push(v & 255, (v >>> 8) & 255);
  }
  u32(v: number): void {
    this.pad(4);
    this.bytes.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  }
  str(s: string): void {
    this.u32(Buffer.byteLength(s));
    for (const b of Buffer.from(s)) this.bytes.push(b);
    this.bytes.push(0);
  }
  sig(s: string): void {
    this.u8(s.length);
    for (const b of Buffer.from(s)) this.bytes.push(b);
    this.bytes.push(0);
  }
  get length(): number {
    return this.bytes.length;
  }
  set(at: number, v: number): void {
    this.bytes[at] = v & 255;
    this.bytes[at + 1] = (v >>> 8) & 255;
    this.bytes[at + 2] = (v >>> 16) & 255;
    this.bytes[at + 3] = (v >>> 24) & 255;
  }
  buffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** A METHOD_CALL message with body signature "qqiiuu". */
function setUiInfoCall(consoleIndex: number, width: number, height: number): Buffer {
  const m = new Marshal();
  m.u8(0x6c); // 'l'
  m.u8(1); // METHOD_CALL
  m.u8(0); // flags: a reply is expected
  m.u8(1); // protocol version
  m.u32(20); // body length: q q i i u u
  m.u32(1); // serial
  const arrayLenAt = m.length;
  m.u32(0);
  const arrayStart = m.length;
  const field = (code: number, sig: string, write: () => void) => {
    m.pad(8);
    m.u8(code);
    m.sig(sig);
    write();
  };
  field(1, 'o', () => m.str(`/org/qemu/Display1/Console_${consoleIndex}`));
  field(2, 's', () => m.str('org.qemu.Display1.Console'));
  field(3, 's', () => m.str('SetUIInfo'));
  field(8, 'g', () => m.sig('qqiiuu'));
  m.set(arrayLenAt, m.length - arrayStart);
  m.pad(8);
  const mm = (px: number) => Math.round((px * 254) / 960); // 96 dpi
  m.u16(mm(width));
  m.u16(mm(height));
  m.u32(0);
  m.u32(0);
  m.u32(width);
  m.u32(height);
  return m.buffer();
}

/** Total bytes of the first complete D-Bus message in `b`, or 0 when incomplete. */
function messageLength(b: Buffer): number {
  if (b.length < 16) return 0;
  const body = b.readUInt32LE(4);
  const fields = b.readUInt32LE(12);
  const header = 16 + fields + ((8 - ((16 + fields) % 8)) % 8);
  return b.length >= header + body ? header + body : 0;
}

/**
 * Resize console `consoleIndex` of the QEMU listening for QMP on `qmpPath` (started with
 * `-display dbus,p2p=yes`) to width x height. Resolves once QEMU answered the call.
 */
export async function dbusResize(qmpPath: string, width: number, height: number, consoleIndex = 0): Promise<void> {
  const [ours, theirs] = socketPair();
  let theirsOpen = true;
  try {
    await qmpWithFd(qmpPath, [
      { execute: 'getfd', arguments: { fdname: 'vgpu-dbus' }, fd: theirs },
      { execute: 'add_client', arguments: { protocol: '@dbus-display', fdname: 'vgpu-dbus' } },
    ]);
    closeFd(theirs);
    theirsOpen = false;
    const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
    await sendAll(ours, Buffer.from(`\0AUTH EXTERNAL ${uid}\r\n`));
    const ok = await readUntil(ours, (b) => b.includes('\r\n'), 'D-Bus auth');
    if (!ok.toString().startsWith('OK ')) throw new Error(`D-Bus auth refused: ${ok.toString().trim()}`);
    await sendAll(ours, Buffer.from('BEGIN\r\n'));
    await sendAll(ours, setUiInfoCall(consoleIndex, width, height));
    // QEMU may send signals first; the reply to serial 1 is a METHOD_RETURN (2) or ERROR (3).
    const reply = await readUntil(ours, (b) => messageLength(b) > 0 && [...splitMessages(b)].some((m) => m[1] === 2 || m[1] === 3), 'SetUIInfo reply');
    const err = [...splitMessages(reply)].find((m) => m[1] === 3);
    if (err) throw new Error(`SetUIInfo failed: ${err.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ')}`);
  } finally {
    closeFd(ours);
    if (theirsOpen) closeFd(theirs);
  }
}

function* splitMessages(b: Buffer): Generator<Buffer> {
  let rest = b;
  for (let n = messageLength(rest); n > 0; n = messageLength(rest)) {
    yield rest.subarray(0, n);
    rest = rest.subarray(n);
  }
}
