import { access, writeFile } from 'node:fs/promises';
import { Display } from '@virtio-gpu/display';
import { startViewer } from '@virtio-gpu/display/node';
import type { V86VirtioGpu } from '@virtio-gpu/v86';
import { bootLinux } from '@virtio-gpu/v86/node';
import { parseCommandLine, untilStopped } from './command-line.js';
import type { CliIo } from './cli-io.js';

export const V86_USAGE = `usage: virtio-gpu v86 --kernel FILE --initrd FILE [options]

Boots a Linux guest (bzImage + initrd) in the v86 emulator under Node with our virtio-gpu device
on its PCI bus, and streams the guest's serial console to stdout.

  --kernel FILE      bzImage to boot (test/guest-v86/build.sh builds one: .cache/guest-v86/bzImage)
  --initrd FILE      initial ramdisk
  --append ARGS      kernel command line (default: console=ttyS0)
  --memory MIB       guest RAM in MiB (default 128)
  --until TEXT       exit 0 once TEXT appears on the serial console (after --png, if given)
  --png FILE         with --until: write scanout 0 as PNG to FILE when TEXT appears
  --timeout S        give up after S seconds: exit 1 with the last serial lines (default 300)
  --host H           viewer address without --until (default 127.0.0.1)
  --port N           viewer port without --until (default 0: any free port)
  -h, --help         this text

Without --until it serves the live viewer with the guest's screen, prints its URL and runs
until Ctrl+C; lines typed on stdin go to the guest's serial console.
`;

/** Waits until `display` has had no flush for `quietMs` (at most `maxMs`): the frame is complete. */
async function settle(display: Display, quietMs: number, maxMs: number): Promise<void> {
  const start = performance.now();
  let last = display.stats.flushes;
  let since = performance.now();
  while (performance.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 50));
    const n = display.stats.flushes;
    if (n !== last) {
      last = n;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) {
      return;
    }
  }
}

/** `virtio-gpu v86`: see {@link V86_USAGE}. */
export async function runV86(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(
    'v86',
    V86_USAGE,
    {
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      append: { type: 'string' },
      memory: { type: 'string' },
      until: { type: 'string' },
      png: { type: 'string' },
      timeout: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
    },
    args,
    io,
  );
  if (typeof values === 'number') return values;
  const memory = Number(values.memory ?? 128);
  const timeout = Number(values.timeout ?? 300);
  const port = Number(values.port ?? 0);
  const problems: string[] = [];
  if (!values.kernel || !values.initrd) problems.push('--kernel and --initrd are required');
  if (!Number.isInteger(memory) || memory < 32 || memory > 2047) problems.push('--memory must be 32..2047 MiB');
  if (!(timeout > 0)) problems.push('--timeout must be a positive number of seconds');
  if (values.png !== undefined && values.until === undefined) problems.push('--png needs --until (when to take the picture)');
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('--port must be 0..65535');
  for (const f of [values.kernel, values.initrd]) {
    if (f === undefined) continue;
    try {
      await access(f);
    } catch {
      problems.push(`cannot read ${f}`);
    }
  }
  if (problems.length > 0) {
    io.stderr(`virtio-gpu v86: ${problems.join('; ')}\n\n${V86_USAGE}`);
    return 1;
  }

  let gpu: V86VirtioGpu | null = null;
  const display = new Display({ source: { readScanout: (id, rect, dst, stride, format, opaque) => gpu?.readScanout(id, rect, dst, stride, format, opaque) ?? false } });
  let line = '';
  const guest = await bootLinux({
    kernel: values.kernel!,
    initrd: values.initrd!,
    append: values.append ?? 'console=ttyS0',
    memoryMiB: memory,
    sink: display,
    onSerial: (ch) => {
      line += ch;
      if (ch === '\n' || line.length >= 4096) {
        io.stdout(line);
        line = '';
      }
    },
  });
  gpu = guest.gpu;
  const lastLines = () => guest.serial().split('\n').slice(-20).join('\n');

  try {
    if (values.until !== undefined) {
      try {
        await guest.waitFor(values.until, timeout * 1000);
      } catch {
        io.stderr(`\nvirtio-gpu v86: "${values.until}" did not appear within ${timeout} s; last serial lines:\n${lastLines()}\n`);
        return 1;
      }
      if (values.png !== undefined) {
        // The text may come before the guest's last flush reaches us (fbdev flushes from a worker).
        await settle(display, 300, 5000);
        if (!display.surface(0)) {
          io.stderr('virtio-gpu v86: scanout 0 shows nothing (did the guest bind the virtio-gpu driver?)\n');
          return 1;
        }
        await writeFile(values.png, display.toPng(0));
        io.stderr(`virtio-gpu v86: wrote ${values.png}\n`);
      }
      return 0;
    }

    const viewer = await startViewer({ display, host: values.host ?? '127.0.0.1', port, title: 'Linux in v86 on virtio-gpu' });
    io.stdout(`virtio-gpu v86: viewer at ${viewer.url}\n`);
    const onInput = (chunk: Buffer | string) => guest.emulator.serial0_send(chunk.toString());
    process.stdin.on('data', onInput);
    await untilStopped(timeout);
    process.stdin.off('data', onInput);
    process.stdin.pause();
    await viewer.close();
    return 0;
  } finally {
    if (line) io.stdout(line);
    await guest.stop();
  }
}
