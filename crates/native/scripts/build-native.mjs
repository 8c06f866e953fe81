#!/usr/bin/env node
// `build:native`: the native binary (napi build, release) when a Rust toolchain is present. Without one it
// says so and succeeds, so `pnpm test` and `pnpm demo` work on machines that never build Rust (the
// TypeScript renderer is the default). CI always has cargo, and there a failed build fails.
// VIRTIO_GPU_SKIP_NATIVE=1 skips the Rust build on purpose.
import { spawnSync } from 'node:child_process';

const here = new URL('..', import.meta.url).pathname;
if (process.env.VIRTIO_GPU_SKIP_NATIVE === '1') {
  console.log('@virtio-gpu/native: VIRTIO_GPU_SKIP_NATIVE=1, not building the Rust binary');
  process.exit(0);
}
const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.status !== 0) {
  const msg = '@virtio-gpu/native: cargo not found; not building the Rust binary (the TypeScript renderer still works). Install Rust >= 1.88 with rustup to build it.';
  if (process.env.CI) {
    console.error(`${msg}\nCI needs it: failing.`);
    process.exit(1);
  }
  console.log(msg);
  process.exit(0);
}
const args = ['napi', 'build', '--platform', '--release', '--js', 'binding.cjs', '--dts', 'binding.d.cts'];
const r = spawnSync('pnpm', ['exec', ...args], { cwd: here, stdio: 'inherit' });
process.exit(r.status ?? 1);
