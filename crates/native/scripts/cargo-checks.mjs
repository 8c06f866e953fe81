#!/usr/bin/env node
// The Rust half of the package's tests: `cargo clippy -- -D warnings` (all targets) and
// `cargo test`. Outside CI a machine without cargo skips them with a message; in CI they run.
import { spawnSync } from 'node:child_process';

const here = new URL('..', import.meta.url).pathname;
const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.status !== 0) {
  if (process.env.CI) {
    console.error('@virtio-gpu/native: cargo not found, but CI must run clippy and cargo test');
    process.exit(1);
  }
  console.log('@virtio-gpu/native: cargo not found; skipping clippy and cargo test (install Rust with rustup)');
  process.exit(0);
}
const run = (args) => {
  console.log(`$ cargo ${args.join(' ')}`);
  const r = spawnSync('cargo', args, { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
// Tests in the release profile for the host triple: exactly what `napi build --platform
// --release` (build:native, which runs first) compiled, so the dependencies are reused instead of
// a second, debug build of rutabaga and napi (minutes on a 2-core CI machine).
const host = /^host: (\S+)$/m.exec(spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout ?? '')?.[1];
run(['clippy', '--locked', '--all-targets', '--quiet', '--', '-D', 'warnings']);
run(['test', '--locked', '--quiet', '--release', ...(host ? ['--target', host] : [])]);
