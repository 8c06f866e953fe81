#!/usr/bin/env node
/**
 * The `virtio-gpu` executable: a small subcommand dispatcher.
 *
 * To add a subcommand (`demo`, `serve`, ...), write `runX(args, io): Promise<number>` in its own
 * module and add it to `commands` below; usage text and dispatch pick it up from there.
 */
import type { CliIo } from './cli-io.js';
import { runDecode } from './decode.js';
import { runDemo } from './demo.js';
import { runServe } from './serve.js';
import { runV86 } from './v86.js';

/** A subcommand: the words after its name, the process's I/O; resolves to the exit code. */
export type Subcommand = (args: string[], io: CliIo) => Promise<number>;

/** Subcommands by name, with a one-line summary for the usage text. */
export const commands: Record<string, { run: Subcommand; summary: string }> = {
  decode: { run: runDecode, summary: 'decode one virtio-gpu command (hex, file or stdin) to JSON' },
  demo: { run: runDemo, summary: 'run the device in-process with a guest workload; live viewer or PNG frames' },
  serve: { run: runServe, summary: 'be a QEMU guest\'s GPU: a vhost-user-gpu backend on a UNIX socket (--vhost-user SOCKET)' },
  v86: { run: runV86, summary: 'boot Linux in the v86 emulator with our device: serial console, PNG or live viewer' },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: virtio-gpu <command> [args]\n\ncommands:\n${lines.join('\n')}\n\nRun virtio-gpu <command> --help for a command's options.\n`;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const nodeIo: CliIo = {
  stdin: readStdin,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** Dispatches argv (without node and the script) to a subcommand; resolves to the exit code. */
export async function main(argv: string[], io: CliIo = nodeIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 1 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.stderr(`virtio-gpu: unknown command "${name}"\n\n${usage()}`);
    return 1;
  }
  return command.run(rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
