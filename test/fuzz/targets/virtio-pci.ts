/**
 * Fuzz target: the modern virtio-pci transport (packages/virtio-pci) with our device behind it,
 * driven by arbitrary PCI configuration-space and BAR accesses of any width, guest-memory writes
 * (ring contents) and, in between, the steps of a well-behaved driver, so the fuzzer reaches the
 * states past DRIVER_OK. Checked after every input:
 * - no access throws into the emulator; a read of 1, 2 or 4 bytes returns an integer of that width;
 * - device_status reads back as a byte; INTx is deasserted once ISR status has been read;
 * - a function reset (the emulator's) followed by a well-behaved driver's init reaches DRIVER_OK
 *   and GET_DISPLAY_INFO through the rings is answered OK_DISPLAY_INFO; the device was emptied.
 *
 * Input: 8-byte operations (op, width, offset le16, value le32); see `step`.
 */
import * as P from '@virtio-gpu/protocol';
import { CommonCfg, VIRTIO_CONFIG_S_DRIVER_OK } from '@virtio-gpu/virtio-pci';
import { PCI_RAM, PciDriver, PciRig } from '../harness/pci-rig';

export const maxLen = 8 * 256;
/** Field offsets of the common config, status bits and PCI command bits. */
export const dictionary: number[] = [...Object.values(CommonCfg), 1, 2, 4, 8, 0x40, 0x80, 0x0f, 0x0b, 0x0107, 0x0404, PCI_RAM.gpa, PCI_RAM.gpa + 0x1000, 0xffff, 16, 15, 17, 0x8000];

const WIDTHS = [1, 2, 4, 4, 4, 3, 8, 0];

function checkRead(v: number, width: number, what: string): void {
  if (!Number.isInteger(v)) throw new Error(`${what}: read ${v}`);
  if ((width === 1 || width === 2 || width === 4) && (v < 0 || v >= 2 ** (8 * width))) throw new Error(`${what}: ${width}-byte read gave ${v}`);
}

function step(rig: PciRig, driver: PciDriver, op: number, width: number, offset: number, value: number): void {
  const fn = rig.fn;
  switch (op % 8) {
    case 0:
      checkRead(fn.configRead(offset & 0x1ff, width), width, `config 0x${(offset & 0x1ff).toString(16)}`);
      break;
    case 1:
      fn.configWrite(offset & 0x1ff, width, value);
      break;
    case 2:
      checkRead(fn.barRead(offset % (fn.layout.size + 8), width), width, `bar 0x${offset.toString(16)}`);
      break;
    case 3:
      fn.barWrite(offset % (fn.layout.size + 8), width, value);
      break;
    case 4: {
      // The guest writes its own memory (ring contents, indexes).
      const at = PCI_RAM.gpa + ((offset * 4) % (PCI_RAM.bytes - 4));
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, value, true);
      rig.ram.write(at, b);
      break;
    }
    case 5:
      driver.init();
      break;
    case 6:
      if ((fn.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) driver.displayInfo();
      break;
    default:
      fn.resetFunction();
  }
  if (!Number.isInteger(fn.status) || fn.status < 0 || fn.status > 0xff) throw new Error(`device_status ${fn.status}`);
}

export function fuzz(data: Uint8Array): void {
  const rig = new PciRig();
  const driver = new PciDriver(rig);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at + 8 <= data.length; at += 8) step(rig, driver, data[at], WIDTHS[data[at + 1] & 7], dv.getUint16(at + 2, true), dv.getUint32(at + 4, true));
  // ISR read clears the line (with the BAR decoding: otherwise the read never reaches the function).
  driver.enable();
  rig.fn.barRead(rig.fn.layout.isr.offset, 1);
  if (rig.fn.intxAsserted) throw new Error('INTx still asserted after reading ISR status');
  // The emulator resets the function; a well-behaved driver then gets a working device.
  rig.fn.resetFunction();
  if (rig.device.resourceCount !== 0 || rig.device.hostBytesUsed !== 0) throw new Error('function reset left device state');
  if (!driver.init()) throw new Error('a well-behaved init after reset did not reach DRIVER_OK');
  const t = driver.displayInfo();
  if (t !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) throw new Error(`GET_DISPLAY_INFO after reset answered 0x${t.toString(16)}`);
  if (rig.common(CommonCfg.numQueues, 2) !== 2) throw new Error('num_queues changed');
}
