import { describe, expect, test } from 'vitest';
import {
  VIRTIO_GPU_CMD_RESOURCE_FLUSH,
  VIRTIO_GPU_CMD_MOVE_CURSOR,
  VIRTIO_GPU_FLAG_FENCE,
  VIRTIO_GPU_FLAG_INFO_RING_IDX,
  VIRTIO_GPU_RESP_OK_NODATA,
  commandSize,
  decodeCommand,
  encodeCommand,
  encodeResponse,
  type Command,
} from '@virtio-gpu/protocol';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { GuestRam } from './guest-ram';
import { CURSORQ } from '@virtio-gpu/protocol';
import { GpuDriver } from './driver';
import { cmd, rect } from './commands';

/** A device that answers every command OK_NODATA, echoing the fence, on the real device-side queue. */
function echoDevice(ram: GuestRam) {
  const seen: Command[] = [];
  const out = new Uint8Array(64);
  let driver!: GpuDriver;
  const queues: SplitQueue[] = [];
  const notify = (qi: number) => {
    const q = queues[qi]!;
    for (let chain = q.pop(); chain; chain = q.pop()) {
      const req = chain.reader.readBytes(chain.reader.remaining)!;
      const d = decodeCommand(req);
      if (!d.ok) throw new Error(d.error.message);
      seen.push(d.cmd);
      const n = encodeResponse({ type: VIRTIO_GPU_RESP_OK_NODATA, hdr: { ...d.cmd.hdr, type: VIRTIO_GPU_RESP_OK_NODATA } } as never, out, 0);
      chain.writer.write(out.subarray(0, n));
      q.pushUsed(chain, n);
    }
    if (q.shouldNotify()) driver.interrupt();
  };
  driver = new GpuDriver({ ram, transport: { notify }, queueSize: 16 });
  for (const i of [0, 1]) {
    const l = driver.queueLayout(i);
    queues.push(new SplitQueue(ram.memory, l));
  }
  return { driver, seen };
}

describe('GpuDriver', () => {
  test('a command round-trips through the real split queue and resolves OK_NODATA', async () => {
    const { driver, seen } = echoDevice(new GuestRam());
    const resp = await driver.send(cmd.resourceFlush(3, rect(1, 2, 3, 4)));
    expect(resp.type).toBe(VIRTIO_GPU_RESP_OK_NODATA);
    expect(seen[0]!.type).toBe(VIRTIO_GPU_CMD_RESOURCE_FLUSH);
    expect((seen[0] as { r: unknown }).r).toEqual(rect(1, 2, 3, 4));
  });

  test('fenced commands get increasing fence ids and ring flags', async () => {
    const { driver, seen } = echoDevice(new GuestRam());
    await driver.send(cmd.getDisplayInfo(), { fence: true });
    const r = await driver.send(cmd.getDisplayInfo(), { fence: true, ctxId: 5, ringIdx: 3 });
    expect(seen[0]!.hdr.fenceId).toBe(1n);
    expect(seen[1]!.hdr.fenceId).toBe(2n);
    expect(seen[1]!.hdr.flags).toBe(VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
    expect(seen[1]!.hdr.ringIdx).toBe(3);
    expect(r.hdr.fenceId).toBe(2n);
  });

  test('more commands than the ring holds all complete, across u16 index wrap-around', async () => {
    const { driver, seen } = echoDevice(new GuestRam());
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 70_000; i++) all.push(driver.send(cmd.resourceFlush(i, rect(0, 0, 1, 1))));
    await Promise.all(all);
    expect(seen.length).toBe(70_000);
    expect(driver.inFlight).toBe(0);
  }, 60_000);

  test('cursor commands travel on the cursor queue', async () => {
    const { driver, seen } = echoDevice(new GuestRam());
    const p = driver.trySubmit(CURSORQ, cmd.moveCursor(0, 10, 20));
    expect(p).not.toBeNull();
    await p!.response;
    expect(seen[0]!.type).toBe(VIRTIO_GPU_CMD_MOVE_CURSOR);
  });

  test('a request larger than a slot gets pages of its own and they are freed', async () => {
    const ram = new GuestRam();
    const { driver, seen } = echoDevice(ram);
    const entries = ram.allocScattered(64 * 4096, false);
    const before = ram.freePages;
    await driver.send(cmd.attachBacking(1, entries));
    expect((seen[0] as { entries: unknown[] }).entries.length).toBe(64);
    expect(ram.freePages).toBe(before);
  });
});

describe('GpuDriver.submitRaw', () => {
  test('raw request bytes reach the device unchanged and the response resolves', async () => {
    const { driver, seen } = echoDevice(new GuestRam());
    const c = cmd.resourceFlush(7, rect(1, 2, 3, 4));
    const bytes = new Uint8Array(commandSize(c));
    encodeCommand(c, bytes, 0);
    const p = await driver.submitRaw(0, bytes);
    expect((await p.response).type).toBe(VIRTIO_GPU_RESP_OK_NODATA);
    expect(seen[0]).toMatchObject({ type: VIRTIO_GPU_CMD_RESOURCE_FLUSH, resourceId: 7 });
  });

  test('a raw request larger than a slot gets pages of its own and they are freed', async () => {
    const ram = new GuestRam();
    const { driver } = echoDevice(ram);
    const c = cmd.attachBacking(1, ram.allocScattered(64 * 4096, false));
    const bytes = new Uint8Array(commandSize(c));
    encodeCommand(c, bytes, 0);
    const before = ram.freePages;
    await (await driver.submitRaw(0, bytes)).response;
    expect(ram.freePages).toBe(before);
  });

  test('an empty request -> RangeError (a chain needs a readable buffer)', async () => {
    const { driver } = echoDevice(new GuestRam());
    await expect(driver.submitRaw(0, new Uint8Array(0))).rejects.toThrow(RangeError);
  });
});
