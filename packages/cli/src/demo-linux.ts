import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { servePage } from '@virtio-gpu/v86/node';
import { parseCommandLine, untilStopped } from './command-line.js';
import type { CliIo } from './cli-io.js';

export const DEMO_LINUX_USAGE = `usage: virtio-gpu demo --linux [options]

Serves a page that boots Linux in the browser tab: the v86 emulator runs the i386 test guest
with our virtio-gpu device, whose screen (the guest's framebuffer console, a busybox shell you
can type into) is drawn on a canvas beside the serial console. Prints the URL.

  --kernel FILE      bzImage (default .cache/guest-v86/bzImage, built by test/guest-v86/build.sh)
  --initrd FILE      initrd (default .cache/guest-v86/initrd.cpio.gz)
  --host H           address to bind (default 127.0.0.1)
  --port N           port (default 0: any free port)
  --timeout S        stop serving after S seconds (default: until Ctrl+C)
  -h, --help         this text

Add ?mode=test to the URL for the test pattern instead of the shell.
`;

/** `virtio-gpu demo --linux`: serves the v86 page and prints its URL. */
export async function runDemoLinux(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(
    'demo --linux',
    DEMO_LINUX_USAGE,
    {
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      timeout: { type: 'string' },
    },
    args,
    io,
  );
  if (typeof values === 'number') return values;
  const kernel = values.kernel ?? join('.cache', 'guest-v86', 'bzImage');
  const initrd = values.initrd ?? join('.cache', 'guest-v86', 'initrd.cpio.gz');
  const port = Number(values.port ?? 0);
  const timeout = values.timeout === undefined ? Infinity : Number(values.timeout);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !(timeout > 0)) {
    io.stderr(`virtio-gpu demo --linux: bad option value\n\n${DEMO_LINUX_USAGE}`);
    return 1;
  }
  for (const f of [kernel, initrd]) {
    try {
      await access(f);
    } catch {
      io.stderr(`virtio-gpu demo --linux: cannot read ${f} (build the guest with test/guest-v86/build.sh, or pass --kernel/--initrd)\n`);
      return 1;
    }
  }
  let server;
  try {
    server = await servePage({ kernel, initrd, host: values.host ?? '127.0.0.1', port });
  } catch (e) {
    io.stderr(`virtio-gpu demo --linux: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout(`virtio-gpu demo --linux: open ${server.url}\n`);
  io.stdout('Press Ctrl+C to stop.\n');
  await untilStopped(timeout);
  await server.close();
  return 0;
}
