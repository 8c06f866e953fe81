/**
 * A real Linux guest's GPU: Debian's kernel under QEMU 10 (TCG) with `-device vhost-user-gpu-pci`
 * on `virtio-gpu serve --vhost-user` (a child process), checked against the same guest on QEMU's
 * built-in virtio-gpu-pci: screendumps pixel for pixel, the connector's modes, a guest reboot and a
 * display resize inside one connection, a second QEMU after the first quit, the backend's
 * descriptors and guest-memory mappings back to where they started after every connection, and
 * the rutabaga renderer drawing the same picture.
 *
 * Boots are shared between assertions (each is ~7 s on an idle machine) and the built-in
 * reference runs next to ours. Needs the guest built by test/guest/build-guest.sh (.ci/run does);
 * outside CI the suite skips with a message when it is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IN_CI,
  type Image,
  OurBackend,
  Qemu,
  cleanupTemp,
  colourCount,
  fdCount,
  memfdMappings,
  pixelDiff,
  prepareGuest,
  rgbSha256,
} from '../guest/harness.js';
import { dbusResize } from '../guest/dbus-display.js';

const problem = prepareGuest();
if (problem && !IN_CI) console.warn(`vhost-user e2e skipped: ${problem}`);
const suite = problem && !IN_CI ? describe.skip : describe;

/** The fb picture at 1280x800 (test/guest/init), as listed in the guest README. */
const FB_1280x800 = '85473e30984ff84dd52c6f9a76abc3e4d90d6493158e385dfcd1babffeb1fe88';
const BOOT_MS = 150_000;

/** What the guest's init logged about its connectors, without timestamps: EDID sizes and hashes. */
function edids(serial: string): string[] {
  return [...serial.matchAll(/GUEST\[[0-9.]+\]: (edid .*)/g)].map((m) => m[1].trim());
}

/** The preferred (first) mode of each connector at boot. */
function preferred(serial: string): string[] {
  return [...serial.matchAll(/GUEST\[[0-9.]+\]: connector (\S+) status=(\S+) modes=(\S+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

/** The modes `modetest -c` listed (a fresh probe of the connector). */
function modetestModes(serial: string): string {
  const m = /GUEST\[[0-9.]+\]: modetest connector \d+ modes=(.*)/.exec(serial);
  if (!m) throw new Error('no modetest mode list in the serial log');
  return m[1].trim();
}

function expectSame(ours: Image, builtin: Image, what: string): void {
  expect(`${ours.width}x${ours.height}`, `${what}: size`).toBe(`${builtin.width}x${builtin.height}`);
  expect(pixelDiff(ours, builtin), `${what}: pixels that differ from the built-in device`).toBe(0);
}

suite('vhost-user-gpu backend with a real QEMU 10 guest', () => {
  let backend: OurBackend;
  let baseFds = 0;
  let baseMaps = 0;

  beforeAll(async () => {
    if (problem) throw new Error(problem);
    backend = new OurBackend();
    await backend.ready();
    baseFds = fdCount(backend.pid);
    baseMaps = memfdMappings(backend.pid);
  });

  afterAll(async () => {
    const code = await backend?.stop();
    cleanupTemp();
    // SIGTERM ends the server cleanly (exit 0, nothing left behind).
    expect(code).toBe(0);
    expect(backend.stdout).toMatch(/stopped \(SIGTERM\)/);
  });

  /** After a connection ended: descriptors and memfd mappings are back to the idle count. */
  async function expectReleased(closedConnections: number): Promise<void> {
    await backend.connectionsClosed(closedConnections);
    expect(fdCount(backend.pid), 'backend descriptors after the connection ended').toBe(baseFds);
    expect(memfdMappings(backend.pid), 'guest-memory mappings after the connection ended').toBe(baseMaps);
  }

  it(
    'fbdev picture equals the built-in device pixel for pixel; survives a guest reboot; follows a display resize',
    async () => {
      const builtin = new Qemu({ gpu: { kind: 'builtin' }, dbus: true, append: 'guest.watch=1' });
      const ours = new Qemu({ gpu: { kind: 'vhost-user', socket: backend.socket }, dbus: true, append: 'guest.watch=1' });
      try {
        await Promise.all([builtin.waitSerial(/GUEST\[[0-9.]+\]: READY/, BOOT_MS), ours.waitSerial(/GUEST\[[0-9.]+\]: READY/, BOOT_MS)]);
        const ref = await builtin.screendump();
        const shot = await ours.screendump();
        expect(rgbSha256(ref), 'built-in reference picture').toBe(FB_1280x800);
        expectSame(shot, ref, 'fb picture');
        // The EDID and the preferred mode come from QEMU's display, as with the built-in device.
        expect(edids(ours.serial())).toEqual(edids(builtin.serial()));
        expect(edids(ours.serial())).toHaveLength(1);
        expect(preferred(ours.serial())).toEqual(['card0-Virtual-1 connected 1280x800']);

        // Reboot: the same connection, the device reset, the picture drawn again.
        await (await ours.qmp()).cmd('system_reset');
        await ours.waitSerial(/GUEST\[[0-9.]+\]: READY/, BOOT_MS, 2);
        expectSame(await ours.screendump(), ref, 'fb picture after the reboot');
        expect(backend.stderr).toMatch(/connection 1: device reset \(RESET_DEVICE\), [1-9][0-9]* resources released/);

        // Resize through QEMU's console (its D-Bus display's SetUIInfo, as a UI would): the guest
        // sees a hotplug event and the new preferred mode; QEMU's console takes the new size.
        await Promise.all([dbusResize(builtin.qmpFdPath, 1024, 768), dbusResize(ours.qmpFdPath, 1024, 768)]);
        const [hb, ho] = await Promise.all([
          builtin.waitSerial(/GUEST\[[0-9.]+\]: hotplug (.*)/, 60_000),
          ours.waitSerial(/GUEST\[[0-9.]+\]: hotplug (.*)/, 60_000),
        ]);
        expect(ho[1]).toMatch(/:connected:1024x768 /);
        expect(ho[1]).toBe(hb[1]);
        await new Promise((r) => setTimeout(r, 1500));
        const [rb, ro] = [await builtin.screendump(), await ours.screendump()];
        expect(`${ro.width}x${ro.height}`).toBe('1024x768');
        expect(colourCount(ro)).toBeGreaterThan(2);
        expectSame(ro, rb, 'picture after the resize');
      } finally {
        await Promise.all([builtin.quit(), ours.quit()]);
      }
      await expectReleased(1);
    },
    400_000,
  );

  it(
    'a second QEMU after the first quit: modetest sets a mode from our EDID and draws, as on the built-in device',
    async () => {
      const builtin = new Qemu({ gpu: { kind: 'builtin' }, draw: 'modetest', gpuOpts: 'xres=1024,yres=768' });
      const ours = new Qemu({ gpu: { kind: 'vhost-user', socket: backend.socket }, draw: 'modetest', gpuOpts: 'xres=1024,yres=768' });
      try {
        await Promise.all([builtin.waitSerial(/GUEST\[[0-9.]+\]: READY draw=modetest/, BOOT_MS), ours.waitSerial(/GUEST\[[0-9.]+\]: READY draw=modetest/, BOOT_MS)]);
        expect(edids(ours.serial())).toEqual(edids(builtin.serial()));
        expect(modetestModes(ours.serial())).toBe(modetestModes(builtin.serial()));
        expect(modetestModes(ours.serial())).toMatch(/^1024x768@/);
        expect(modetestModes(ours.serial()).split(' ').length).toBeGreaterThan(10);
        const [ref, shot] = [await builtin.screendump(), await ours.screendump()];
        expect(colourCount(ref)).toBeGreaterThan(4);
        expectSame(shot, ref, 'modetest picture');
      } finally {
        await Promise.all([builtin.quit(), ours.quit()]);
      }
      await expectReleased(2);
    },
    300_000,
  );

  it(
    '--renderer rutabaga (rutabaga_gfx through @virtio-gpu/native): the same fb picture',
    async () => {
      const rutabaga = new OurBackend(['--renderer', 'rutabaga']);
      await rutabaga.ready();
      const q = new Qemu({ gpu: { kind: 'vhost-user', socket: rutabaga.socket } });
      try {
        await q.waitSerial(/GUEST\[[0-9.]+\]: READY/, BOOT_MS);
        expect(rgbSha256(await q.screendump())).toBe(FB_1280x800);
      } finally {
        await q.quit();
        expect(await rutabaga.stop(), rutabaga.stderr).toBe(0);
      }
      expect(rutabaga.stderr).not.toMatch(/ error /);
    },
    300_000,
  );
});
