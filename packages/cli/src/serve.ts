/**
 * `virtio-gpu serve --vhost-user SOCKET`: be a real QEMU guest's GPU. QEMU connects with
 * `-chardev socket,id=gpu,path=SOCKET -device vhost-user-gpu-pci,chardev=gpu` (and its RAM in a
 * shared memfd: `-object memory-backend-memfd,id=mem,size=...,share=on -machine memory-backend=mem`).
 * One QEMU at a time; when it quits the next connection is served. SIGINT/SIGTERM end it cleanly.
 */
import { parseCommandLine, untilStopped } from './command-line.js';
import type { CliIo } from './cli-io.js';
import { loadRendererFactory } from './renderer-choice.js';

export const SERVE_USAGE = `usage: virtio-gpu serve --vhost-user SOCKET [options]

Serves the device as a vhost-user-gpu backend on the UNIX socket SOCKET (created, or a stale one
replaced). Start QEMU (10 or later without KVM) with:

  -object memory-backend-memfd,id=mem,size=<RAM>,share=on -machine memory-backend=mem
  -chardev socket,id=gpu,path=SOCKET -device vhost-user-gpu-pci,chardev=gpu[,max_outputs=N]

  --vhost-user SOCKET   the socket path QEMU connects to (required)
  --renderer ts|rutabaga
                        ts: the embedded TypeScript 2D renderer (default); rutabaga: rutabaga_gfx
                        through @virtio-gpu/native
  --outputs N           scanouts of the device, 1 to 16 (default 1; match QEMU's max_outputs)
  --strip-bytes N       pixel bytes per display UPDATE message (default 98304)
  --max-fps N           most display updates per output and second sent to QEMU (default 33,
                        QEMU's own refresh rate; 0: as fast as QEMU takes them); the guest
                        itself is never throttled
  --display-sync        every flush reaches QEMU's console with that moment's pixels: the guest
                        waits for the display (what QEMU's C backend does); implies --max-fps 0
  --verbose             log every vhost-user connection event, not only errors and connections
  -h, --help            this text
`;

/** `virtio-gpu serve`. Resolves with the exit code once stopped by a signal. */
export async function runServe(args: string[], io: CliIo, signals: NodeJS.EventEmitter = process): Promise<number> {
  const values = parseCommandLine(
    'serve',
    SERVE_USAGE,
    {
      'vhost-user': { type: 'string' },
      renderer: { type: 'string' },
      outputs: { type: 'string' },
      'strip-bytes': { type: 'string' },
      'max-fps': { type: 'string' },
      'display-sync': { type: 'boolean' },
      verbose: { type: 'boolean' },
    },
    args,
    io,
  );
  if (typeof values === 'number') return values;
  const path = values['vhost-user'];
  const outputs = Number(values.outputs ?? 1);
  const stripBytes = values['strip-bytes'] === undefined ? undefined : Number(values['strip-bytes']);
  const maxFps = values['max-fps'] === undefined ? undefined : Number(values['max-fps']);
  const badNumbers = (stripBytes !== undefined && !(Number.isInteger(stripBytes) && stripBytes >= 4096)) || (maxFps !== undefined && !(maxFps >= 0 && maxFps <= 1000));
  if (!path || !Number.isInteger(outputs) || outputs < 1 || outputs > 16 || badNumbers) {
    io.stderr(`virtio-gpu serve: ${path ? 'bad option value' : '--vhost-user SOCKET is required'}\n\n${SERVE_USAGE}`);
    return 1;
  }
  const factory = await loadRendererFactory(values.renderer ?? 'ts');
  if (typeof factory === 'string') {
    io.stderr(`virtio-gpu serve: ${factory}\n`);
    return 2;
  }
  const { NativeHost, VhostUserServer } = await import('@virtio-gpu/vhost-user');
  const verbose = values.verbose ?? false;
  const stamp = () => new Date().toISOString().slice(11, 23);
  const server = new VhostUserServer({
    host: new NativeHost(),
    path,
    numScanouts: outputs,
    createRenderer: factory,
    stripBytes,
    maxFps,
    displaySync: values['display-sync'] ?? false,
    trace: verbose,
    log: (level, message) => {
      if (level === 'info' && !verbose && !/connection \d+ (accepted|closed)|listening|disconnected|device reset|display:/.test(message)) return;
      io.stderr(`${stamp()} ${level} ${message}\n`);
    },
  });
  try {
    server.listen();
  } catch (e) {
    io.stderr(`virtio-gpu serve: cannot listen on ${path}: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout(`virtio-gpu serve: vhost-user-gpu backend on ${path} (renderer ${values.renderer ?? 'ts'}, ${outputs} output${outputs > 1 ? 's' : ''})\n`);
  const signal = await untilStopped(Infinity, signals);
  try {
    server.close();
  } catch (e) {
    io.stderr(`virtio-gpu serve: while stopping: ${(e as Error).message}\n`);
  }
  io.stdout(`virtio-gpu serve: stopped (${signal}) after ${server.connections} connection${server.connections === 1 ? '' : 's'}\n`);
  return 0;
}
