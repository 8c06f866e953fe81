/**
 * The browser page: v86 boots the test guest with our virtio-gpu on its PCI bus, and the
 * device's scanout 0 is drawn on a canvas (v86's own ScreenAdapter only draws its VGA memory).
 * The server (@virtio-gpu/v86/node servePage) provides the guest, SeaBIOS and v86.wasm.
 * URL parameters: mode=demo|test (guest.mode, default demo), append=... (extra kernel args),
 * memory=MiB. window.v86gpu exposes the pieces for tests.
 */
import { V86 } from 'v86';
import { CanvasScreen, attachVirtioGpu, type V86VirtioGpu } from '../src/index.js';

const params = new URLSearchParams(location.search);
const mode = params.get('mode') ?? 'demo';
const status = document.getElementById('status')!;
const serialEl = document.getElementById('serial')!;
const canvas = document.getElementById('screen') as HTMLCanvasElement;

async function fetchBuffer(url: string): Promise<{ buffer: ArrayBuffer }> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return { buffer: await r.arrayBuffer() };
}

const state = {
  serial: '',
  gpu: null as V86VirtioGpu | null,
  screen: new CanvasScreen(canvas),
  emulator: null as unknown,
  error: null as string | null,
  bootedAt: 0,
};
(window as unknown as { v86gpu: typeof state }).v86gpu = state;

async function main(): Promise<void> {
  status.textContent = 'fetching the guest…';
  const [bios, vgaBios, bzimage, initrd] = await Promise.all(['bios/bios.bin', 'bios/vgabios.bin', 'guest/bzImage', 'guest/initrd'].map(fetchBuffer));
  const cmdline = `console=ttyS0 ${mode === 'demo' ? 'console=tty0' : 'quiet'} guest.mode=${mode} ${params.get('append') ?? ''}`.trim();
  const emulator = new V86({
    wasm_path: 'v86/v86.wasm',
    memory_size: Number(params.get('memory') ?? 128) * 1024 * 1024,
    vga_memory_size: 8 * 1024 * 1024,
    bios,
    vga_bios: vgaBios,
    bzimage,
    initrd,
    cmdline,
    autostart: false,
    disable_speaker: true,
  } as ConstructorParameters<typeof V86>[0]);
  state.emulator = emulator;
  emulator.add_listener('serial0-output-byte', (byte: number) => {
    const ch = String.fromCharCode(byte);
    state.serial += ch;
    if (ch !== '\r') serialEl.textContent += ch;
    if (byte === 10) serialEl.scrollTop = serialEl.scrollHeight;
  });
  emulator.add_listener('emulator-loaded', () => {
    state.gpu = attachVirtioGpu(emulator, { sink: state.screen, scanouts: [{ width: 1024, height: 768 }] });
    state.screen.setSource(state.gpu);
    state.bootedAt = performance.now();
    void emulator.run();
  });
  const started = performance.now();
  setInterval(() => {
    const g = state.gpu;
    const t = ((performance.now() - started) / 1000).toFixed(0);
    status.textContent = g ? `${t} s · ${g.stats.irqs} interrupts · ${state.screen.frames} frames painted · mode ${mode}` : `${t} s · starting v86…`;
  }, 500);
  canvas.focus();
}

main().catch((e: unknown) => {
  state.error = e instanceof Error ? e.message : String(e);
  status.textContent = `error: ${state.error}`;
});
