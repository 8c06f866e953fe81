/**
 * EDID 1.4 base blocks for GET_EDID (VESA E-EDID Release A Rev. 2). One 128-byte block per
 * scanout: the scanout's current size as the preferred detailed timing (60 Hz with reduced
 * blanking, like CVT-RB), a monitor name descriptor, sRGB chromaticity, no extensions.
 */

/** What to put in a scanout's EDID. */
export interface EdidInfo {
  /** Active width and height in pixels. */
  readonly width: number;
  readonly height: number;
  /** Monitor name, at most 13 ASCII characters (longer is cut). */
  readonly name?: string;
  /** Serial number (the scanout index by default, so monitors differ). */
  readonly serial?: number;
}

/** Size of an EDID base block. */
export const EDID_BLOCK_SIZE = 128;

/** Three-letter PNP manufacturer id written into bytes 8-9. */
export const EDID_MANUFACTURER = 'VGT';

// CVT reduced-blanking constants (VESA CVT 1.2 §3.4): fixed horizontal blanking, short vertical.
const H_BLANK = 160;
const H_FRONT = 48;
const H_SYNC = 32;
const V_FRONT = 3;
const V_SYNC = 5;
const V_BLANK_MIN = 23;
/** Pixels per centimetre at 96 dpi: used for the physical size fields. */
const PX_PER_CM = 96 / 2.54;

/** Build the 128-byte EDID for one scanout. */
export function buildEdid(info: EdidInfo): Uint8Array {
  const e = new Uint8Array(EDID_BLOCK_SIZE);
  e.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], 0);
  // Manufacturer: three 5-bit letters ('A' = 1), big-endian.
  const m = EDID_MANUFACTURER;
  const mid = ((m.charCodeAt(0) - 64) << 10) | ((m.charCodeAt(1) - 64) << 5) | (m.charCodeAt(2) - 64);
  e[8] = mid >> 8;
  e[9] = mid & 0xff;
  e[10] = 0x01; // product code, le16
  e[11] = 0x00;
  const serial = (info.serial ?? 0) >>> 0;
  e[12] = serial & 0xff;
  e[13] = (serial >>> 8) & 0xff;
  e[14] = (serial >>> 16) & 0xff;
  e[15] = serial >>> 24;
  e[16] = 1; // week of manufacture
  e[17] = 2024 - 1990; // year of manufacture
  e[18] = 1; // EDID version 1.4
  e[19] = 4;
  e[20] = 0xa5; // digital input, 8 bits per colour, DisplayPort
  const w = clampInt(info.width, 1, 4095);
  const h = clampInt(info.height, 1, 4095);
  e[21] = clampInt(Math.round(w / PX_PER_CM), 1, 255); // screen size, cm
  e[22] = clampInt(Math.round(h / PX_PER_CM), 1, 255);
  e[23] = 120; // gamma 2.2: (2.2 * 100) - 100
  e[24] = 0x06; // RGB 4:4:4, sRGB default colour space, preferred timing is native
  // sRGB chromaticity (red, green, blue, white D65), 10-bit fixed point.
  e.set([0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54], 25);
  // Bytes 35-37: no established timings. 38-53: standard timings unused (0x01 0x01).
  for (let i = 38; i < 54; i++) e[i] = 0x01;
  writeDetailedTiming(e, 54, w, h);
  writeDescriptor(e, 72, 0xfc, asciiName(info.name ?? 'virtio-gpu'));
  writeDescriptor(e, 90, 0x10, new Uint8Array(13)); // dummy descriptor
  writeDescriptor(e, 108, 0x10, new Uint8Array(13));
  e[126] = 0; // no extension blocks
  let sum = 0;
  for (let i = 0; i < 127; i++) sum += e[i];
  e[127] = (256 - (sum & 0xff)) & 0xff;
  return e;
}

function clampInt(v: number, lo: number, hi: number): number {
  const n = Number.isFinite(v) ? Math.trunc(v) : lo;
  return n < lo ? lo : n > hi ? hi : n;
}

/** Monitor name: up to 13 bytes, ended with 0x0a and padded with spaces. */
function asciiName(name: string): Uint8Array {
  const out = new Uint8Array(13).fill(0x20);
  let n = 0;
  for (; n < name.length && n < 13; n++) {
    const c = name.charCodeAt(n);
    out[n] = c >= 0x20 && c < 0x7f ? c : 0x3f;
  }
  if (n < 13) out[n] = 0x0a;
  return out;
}

function writeDescriptor(e: Uint8Array, at: number, tag: number, payload: Uint8Array): void {
  e[at] = 0;
  e[at + 1] = 0;
  e[at + 2] = 0;
  e[at + 3] = tag;
  e[at + 4] = 0;
  e.set(payload.subarray(0, 13), at + 5);
}

/** 18-byte detailed timing descriptor for w x h at up to 60 Hz. */
function writeDetailedTiming(e: Uint8Array, at: number, w: number, h: number): void {
  const vBlank = Math.max(V_BLANK_MIN, Math.ceil(h * 0.02));
  const hTotal = w + H_BLANK;
  const vTotal = h + vBlank;
  // Pixel clock in 10 kHz units fits 16 bits; huge modes get a lower refresh rate instead.
  const clock = Math.min(0xffff, Math.ceil((hTotal * vTotal * 60) / 10_000));
  e[at] = clock & 0xff;
  e[at + 1] = clock >> 8;
  e[at + 2] = w & 0xff;
  e[at + 3] = H_BLANK & 0xff;
  e[at + 4] = ((w >> 8) << 4) | (H_BLANK >> 8);
  e[at + 5] = h & 0xff;
  e[at + 6] = vBlank & 0xff;
  e[at + 7] = ((h >> 8) << 4) | (vBlank >> 8);
  e[at + 8] = H_FRONT & 0xff;
  e[at + 9] = H_SYNC & 0xff;
  e[at + 10] = ((V_FRONT & 0xf) << 4) | (V_SYNC & 0xf);
  e[at + 11] = ((H_FRONT >> 8) << 6) | ((H_SYNC >> 8) << 4) | ((V_FRONT >> 4) << 2) | (V_SYNC >> 4);
  const wmm = clampInt(Math.round((w / PX_PER_CM) * 10), 1, 4095);
  const hmm = clampInt(Math.round((h / PX_PER_CM) * 10), 1, 4095);
  e[at + 12] = wmm & 0xff;
  e[at + 13] = hmm & 0xff;
  e[at + 14] = ((wmm >> 8) << 4) | (hmm >> 8);
  e[at + 15] = 0;
  e[at + 16] = 0;
  e[at + 17] = 0x1e; // digital separate sync, +hsync +vsync
}
