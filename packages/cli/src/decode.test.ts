import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { parseHex, runDecode } from './decode.js';

const here = dirname(fileURLToPath(import.meta.url));
const SAMPLE = join(here, '..', 'samples', 'resource-create-2d.bin');
const BIN = join(here, '..', 'dist', 'bin.js');
const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

const CREATE_2D_HEX = '01010000 01000000 0100000000000000 00000000 00000000 01000000 02000000 00040000 00030000';
const CREATE_2D_JSON = {
  type: 'VIRTIO_GPU_CMD_RESOURCE_CREATE_2D',
  hdr: { type: 257, flags: 1, fence_id: '1', ctx_id: 0, ring_idx: 0 },
  resource_id: 1,
  format: 2,
  width: 1024,
  height: 768,
};

function fakeIo(stdin: Uint8Array = new Uint8Array(0)) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdin: async () => stdin, stdout: (s) => out.push(s), stderr: (s) => err.push(s) };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

async function run(args: string[], stdin?: Uint8Array) {
  const f = fakeIo(stdin);
  const code = await runDecode(args, f.io);
  return { code, stdout: f.out(), stderr: f.err() };
}

const tmp = mkdtempSync(join(tmpdir(), 'virtio-gpu-decode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('virtio-gpu decode', () => {
  it('--hex with whitespace -> pretty commandToJson on stdout, exit 0', async () => {
    const r = await run(['--hex', CREATE_2D_HEX]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(CREATE_2D_JSON);
    expect(r.stdout).toContain('\n  "hdr": {\n    "type": 257,');
  });

  it('--hex split over several words and --hex=... both work', async () => {
    expect(JSON.parse((await run(['--hex', ...CREATE_2D_HEX.split(' ')])).stdout)).toEqual(CREATE_2D_JSON);
    expect(JSON.parse((await run([`--hex=${CREATE_2D_HEX.replace(/ /g, '')}`])).stdout)).toEqual(CREATE_2D_JSON);
  });

  it('the sample file, as a positional path and with --file', async () => {
    expect(readFileSync(SAMPLE).length).toBe(40);
    for (const args of [[SAMPLE], ['--file', SAMPLE]]) {
      const r = await run(args);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(CREATE_2D_JSON);
    }
  });

  it('stdin without arguments and with -', async () => {
    const bytes = new Uint8Array(readFileSync(SAMPLE));
    for (const args of [[], ['-']]) {
      const r = await run(args, bytes);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(CREATE_2D_JSON);
    }
  });

  it('a payload command: ATTACH_BACKING entries with 64-bit addr as decimal string', async () => {
    const hex = '06010000 00000000 0000000000000000 00000000 00000000 05000000 01000000 00f0ffffffffffff 00100000 00000000';
    const r = await run(['--hex', hex]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ resource_id: 5, nr_entries: 1, entries: [{ addr: '18446744073709547520', length: 4096 }] });
  });

  it('bad hex -> {"error":{"kind":"bad-hex"}} on stderr, exit 1', async () => {
    for (const hex of ['0101zz', '010', 'hello']) {
      const r = await run(['--hex', hex]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(JSON.parse(r.stderr)).toEqual({ error: { kind: 'bad-hex', message: expect.any(String) } });
    }
  });

  it('decode errors -> the decoder kind on stderr, exit 1', async () => {
    expect(JSON.parse((await run(['--hex', '0101'])).stderr).error.kind).toBe('short');
    expect(JSON.parse((await run(['--hex', CREATE_2D_HEX.replace('01010000', '99990000')])).stderr).error.kind).toBe('unknown-type');
    const submit = '07020000 00000000 0000000000000000 00000000 00000000 10000000 00000000 0102';
    expect(JSON.parse((await run(['--hex', submit])).stderr).error.kind).toBe('inconsistent');
    expect(JSON.parse((await run([], new Uint8Array(0))).stderr).error.kind).toBe('short');
  });

  it('missing file -> io error; bad arguments -> usage error', async () => {
    const missing = await run([join(tmp, 'nope.bin')]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr).error.kind).toBe('io');
    for (const args of [['--hex'], ['--file'], ['--bogus'], ['a.bin', 'b.bin']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(JSON.parse(r.stderr).error.kind).toBe('usage');
    }
  });

  it('--help prints usage, exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: virtio-gpu decode');
  });

  it('parseHex accepts 0x and newlines', () => {
    expect(parseHex('0x01 02\n0a\tFF')).toEqual(new Uint8Array([1, 2, 10, 255]));
    expect(parseHex('')).toEqual(new Uint8Array(0));
  });
});

describe('built binary (dist/bin.js)', () => {
  const built = existsSync(BIN);

  it('dist is built (required when CI is set)', (ctx) => {
    if (built) return;
    if (IN_CI) throw new Error(`${BIN} is missing: build with \`cd packages/cli && npx tsup\``);
    console.warn(`skipping the dist/bin.js tests: ${BIN} is missing (cd packages/cli && npx tsup)`);
    ctx.skip();
  });

  (built ? it : it.skip)('node dist/bin.js decode --hex ... prints the JSON; bad hex exits 1', () => {
    const ok = spawnSync(process.execPath, [BIN, 'decode', '--hex', CREATE_2D_HEX], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual(CREATE_2D_JSON);

    const file = join(tmp, 'cmd.bin');
    writeFileSync(file, readFileSync(SAMPLE));
    const stdin = spawnSync(process.execPath, [BIN, 'decode'], { input: readFileSync(file), encoding: 'utf8' });
    expect(JSON.parse(stdin.stdout)).toEqual(CREATE_2D_JSON);

    const bad = spawnSync(process.execPath, [BIN, 'decode', '--hex', 'xyz'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stderr).error.kind).toBe('bad-hex');

    const unknown = spawnSync(process.execPath, [BIN, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('decode');
  });
});
