/**
 * A device behind a real split ring in guest RAM, driven by a minimal "raw" driver (the guest
 * package's PreparedRing): request slots are encoded once and re-submitted as-is, so a bench
 * measures the queue path and the device, not the command builders. The driver still does what a
 * real one does per command: writes two descriptors, an avail entry, publishes, asks whether to
 * kick, and in its interrupt handler walks the used ring and checks each response header.
 *
 * Built code only: imports resolve to the packages' dist bundles when run by plain node.
 */
import { VirtioGpuDevice } from '@virtio-gpu/device';
import { GuestRam, PreparedRing } from '@virtio-gpu/guest';
import {
  VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
  VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
  VIRTIO_GPU_CMD_RESOURCE_FLUSH,
  VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
  VIRTIO_GPU_FLAG_FENCE,
  VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
  VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
  VIRTIO_GPU_RESP_OK_NODATA,
  commandSize,
  decodeResponse,
  encodeCommand,
} from '@virtio-gpu/protocol';
import { DriverSplitRing, SplitQueue } from '@virtio-gpu/virtqueue';

const RAM_BASE = 0x4000_0000;
/** The resource the small commands address: 64x64, never on a scanout. */
export const RES_ID = 1;

const hdr = (type, flags = 0, fenceId = 0n) => ({ type, flags, fenceId, ctxId: 0, ringIdx: 0 });

/** The small commands the benches can repeat, with the response type that means success. */
export const COMMANDS = {
  flush: {
    label: 'RESOURCE_FLUSH 64x64 (off-scanout)',
    okType: VIRTIO_GPU_RESP_OK_NODATA,
    make: (flags, fenceId) => ({
      type: VIRTIO_GPU_CMD_RESOURCE_FLUSH,
      hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH, flags, fenceId),
      r: { x: 0, y: 0, width: 64, height: 64 },
      resourceId: RES_ID,
      padding: 0,
    }),
  },
  transfer1x1: {
    label: 'TRANSFER_TO_HOST_2D 1x1',
    okType: VIRTIO_GPU_RESP_OK_NODATA,
    make: (flags, fenceId) => ({
      type: VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
      hdr: hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, flags, fenceId),
      r: { x: 5, y: 7, width: 1, height: 1 },
      offset: BigInt((7 * 64 + 5) * 4),
      resourceId: RES_ID,
      padding: 0,
    }),
  },
  displayInfo: {
    label: 'GET_DISPLAY_INFO (408-byte reply)',
    okType: VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
    make: (flags, fenceId) => ({ type: VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, flags, fenceId) }),
  },
};

/**
 * Builds guest RAM, a device (with `renderer` when given), its control queue over a
 * DriverSplitRing of `queueSize` descriptors, and resource RES_ID with a one-page backing.
 * `slots` request/response pairs are pre-encoded with `command` (queueSize/2 fit the ring).
 * `deviceClass` lets an A/B comparison run another build of the device.
 */
export function createRawRig({ queueSize = 256, command = 'flush', renderer, fenced = false, deviceClass = VirtioGpuDevice } = {}) {
  // A list of commands fills the slots round-robin (a mixed batch).
  const specs = (Array.isArray(command) ? command : [command]).map((c) => COMMANDS[c]);
  const spec = specs[0];
  const ram = new GuestRam({ regions: [{ gpa: RAM_BASE, bytes: 16 << 20 }] });
  let onInterrupt = () => {};
  const device = new deviceClass({
    memory: ram.memory,
    renderer,
    scanouts: [{ width: 1024, height: 768 }],
    onInterrupt: (cause) => {
      if (cause === 'queue') onInterrupt();
    },
    log: { log: (level, msg) => console.error(`[device ${level}] ${msg}`) },
  });
  device.negotiate(device.features);
  const pr = new PreparedRing(ram, { queueSize });
  const ring = pr.ring;
  const cursorRing = DriverSplitRing.allocate(ram, 16, true);
  const l = ring.layout;
  const cl = cursorRing.layout;
  device.attachQueues(
    new SplitQueue(ram.memory, { size: l.size, descAddr: l.descAddr, availAddr: l.availAddr, usedAddr: l.usedAddr, eventIdx: true }),
    new SplitQueue(ram.memory, { size: cl.size, descAddr: cl.descAddr, availAddr: cl.availAddr, usedAddr: cl.usedAddr, eventIdx: true }),
  );

  const slots = pr.slots;
  const okTypes = new Uint32Array(slots);
  for (let i = 0; i < slots; i++) {
    const sp = specs[i % specs.length];
    okTypes[i] = sp.okType;
    const c = sp.make(fenced ? VIRTIO_GPU_FLAG_FENCE : 0, fenced ? 1n : 0n);
    const bytes = new Uint8Array(commandSize(c));
    encodeCommand(c, bytes, 0);
    pr.request(i, bytes);
  }

  /** Place slot i's chain in the ring (not yet published). */
  function add(i) {
    if (!pr.submit(i)) throw new Error('ring full');
  }

  let bad = 0;
  const check = (slot, type, len) => {
    if (type !== okTypes[slot] || len === 0) bad++;
  };
  /** The driver's interrupt work: reap every used chain and check its response type. */
  function reap() {
    return pr.reap(check);
  }

  /** Send one command synchronously through the same ring (setup), returning the response. */
  function sendOnce(cmdObj) {
    const len = commandSize(cmdObj);
    const at = ram.alloc(4096);
    encodeCommand(cmdObj, ram.bytes(at, len), 0);
    ring.add([
      { gpa: at, length: len, write: false },
      { gpa: at + 2048, length: 2048, write: true },
    ]);
    ring.publish();
    const saved = onInterrupt;
    onInterrupt = () => {};
    device.notify(0);
    onInterrupt = saved;
    const u = ring.popUsed();
    if (!u) throw new Error('setup command not answered synchronously');
    const dec = decodeResponse(ram.bytes(at + 2048, u.length), 0, u.length);
    ram.free(at, 4096);
    if (!dec.ok) throw new Error(dec.error.message);
    return dec.resp;
  }

  // The resource the commands address, with one page of backing for the 1x1 transfer.
  const create = sendOnce({
    type: VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
    hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
    resourceId: RES_ID,
    format: VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
    width: 64,
    height: 64,
  });
  const page = ram.alloc(64 * 64 * 4);
  const attach = sendOnce({
    type: VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
    hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
    resourceId: RES_ID,
    nrEntries: 1,
    entries: [{ addr: BigInt(page), length: 64 * 64 * 4 }],
  });
  if (create.type !== VIRTIO_GPU_RESP_OK_NODATA || attach.type !== VIRTIO_GPU_RESP_OK_NODATA) {
    throw new Error(`setup failed: 0x${create.type.toString(16)} 0x${attach.type.toString(16)}`);
  }

  return {
    ram,
    device,
    ring,
    slots,
    spec,
    add,
    reap,
    sendOnce,
    /** Rewrite slot i's hdr.fence_id (fenced commands get increasing ids, like Linux). */
    setFenceId(i, id) {
      pr.setFenceId(i, id);
    },
    /** The driver's interrupt handler. */
    set onInterrupt(f) {
      onInterrupt = f;
    },
    /** Responses that were not the command's success type. */
    get bad() {
      return bad;
    },
  };
}
