/**
 * `virtio-gpu decode`: decode one virtio-gpu command and print it as JSON (commandToJson).
 *
 * Input: `--hex HEX` (whitespace allowed, optional 0x; everything after --hex is hex), raw bytes
 * from `--file PATH` or a positional PATH, or stdin (no input argument, or `-`).
 * Output: pretty JSON on stdout, exit 0. Any failure: `{ "error": { "kind", "message" } }` on
 * stderr, exit 1. Kinds: `usage`, `bad-hex`, `io`, the decoder's `short`, `unknown-type` and
 * `inconsistent`, and `internal` for a bug.
 */
import { readFile } from 'node:fs/promises';
import { commandToJson, decodeCommand } from '@virtio-gpu/protocol';
import type { CliIo } from './cli-io.js';


/** Usage text of `virtio-gpu decode`. */
export const DECODE_USAGE = `usage: virtio-gpu decode [--hex HEX | --file PATH | PATH | -]

Decodes one virtio-gpu command (struct virtio_gpu_ctrl_hdr and what follows) and prints it as
JSON with the C field names; 64-bit values are decimal strings.

  --hex HEX     the command as hex; whitespace allowed (everything after --hex is read as hex)
  --file PATH   raw command bytes from a file (same as a plain PATH)
  -             raw bytes from stdin (also the default without arguments)

Errors print {"error":{"kind","message"}} on stderr and exit 1.
`;

class CliError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses hex text: whitespace and an optional 0x prefix allowed; anything else is bad-hex. */
export function parseHex(text: string): Uint8Array {
  let s = text.replace(/\s+/g, '');
  if (/^0x/i.test(s)) s = s.slice(2);
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new CliError('bad-hex', 'hex input has characters other than 0-9, a-f and whitespace');
  if (s.length % 2 !== 0) throw new CliError('bad-hex', `hex input has an odd number of digits (${s.length})`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

async function readInput(args: string[], io: CliIo): Promise<Uint8Array> {
  const read = io.readFile ?? ((p: string) => readFile(p).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
  const fromFile = async (path: string) => {
    try {
      return await read(path);
    } catch (e) {
      throw new CliError('io', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  if (args.length === 0) return io.stdin();
  const [first, ...rest] = args;
  if (first === '--hex' || first.startsWith('--hex=')) {
    const text = first === '--hex' ? rest.join(' ') : [first.slice('--hex='.length), ...rest].join(' ');
    if (first === '--hex' && rest.length === 0) throw new CliError('usage', '--hex needs a value');
    return parseHex(text);
  }
  if (rest.length > 0) throw new CliError('usage', `unexpected arguments: ${rest.join(' ')}`);
  if (first === '--file') throw new CliError('usage', '--file needs a path');
  if (first === '-') return io.stdin();
  if (first.startsWith('--file=')) return fromFile(first.slice('--file='.length));
  if (first.startsWith('-')) throw new CliError('usage', `unknown option ${first}`);
  return fromFile(first);
}

/**
 * Runs `virtio-gpu decode` with `args` (the words after `decode`); returns the exit code.
 * Never throws: every failure is reported as JSON on stderr with exit code 1.
 */
export async function runDecode(args: string[], io: CliIo): Promise<number> {
  try {
    if (args[0] === '--help' || args[0] === '-h') {
      io.stdout(DECODE_USAGE);
      return 0;
    }
    // `--file PATH` is two words; fold it into one so readInput sees a single input argument.
    const words = args[0] === '--file' && args.length >= 2 ? [`--file=${args[1]}`, ...args.slice(2)] : args;
    const bytes = await readInput(words, io);
    const res = decodeCommand(bytes);
    if (!res.ok) throw new CliError(res.error.kind, res.error.message);
    io.stdout(`${JSON.stringify(commandToJson(res.cmd), null, 2)}\n`);
    return 0;
  } catch (e) {
    const kind = e instanceof CliError ? e.kind : 'internal';
    const message = e instanceof Error ? e.message : String(e);
    io.stderr(`${JSON.stringify({ error: { kind, message } })}\n`);
    return 1;
  }
}
