/**
 * The layout oracle: the system's <linux/virtio_gpu.h>, compiled with cc, must agree with
 * LAYOUTS and the exported constants, both ways.
 *
 * The header text is parsed for every `struct virtio_gpu_*` (with its member names), every
 * `#define VIRTIO_GPU_*` with a value and every enum member; a generated C program prints
 * sizeof/offsetof and values for all of them, so nothing in the header can be missing here and
 * nothing here can disagree with the header. Entries the header lacks on purpose are listed below.
 *
 * Needs `cc` and linux-libc-dev: with CI set the test fails without them, elsewhere it skips.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as P from './index.js';

const HEADER = '/usr/include/linux/virtio_gpu.h';
const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/** Exported constants the Linux header (linux-libc-dev) may lack: newer-kernel and rutabaga capset ids. */
const KNOWN_EXTRA_CONSTANTS = new Set([
  'VIRTIO_GPU_CAPSET_GFXSTREAM_VULKAN', // newer Linux headers
  'VIRTIO_GPU_CAPSET_VENUS', // newer Linux headers
  'VIRTIO_GPU_CAPSET_CROSS_DOMAIN', // newer Linux headers
  'VIRTIO_GPU_CAPSET_DRM', // newer Linux headers
  'VIRTIO_GPU_CAPSET_GFXSTREAM_MAGMA', // rutabaga_gfx extension
  'VIRTIO_GPU_CAPSET_GFXSTREAM_GLES', // rutabaga_gfx extension
  'VIRTIO_GPU_CAPSET_GFXSTREAM_COMPOSER', // rutabaga_gfx extension
]);
/** Structs in LAYOUTS that the header lacks (none today). */
const KNOWN_EXTRA_STRUCTS = new Set<string>([]);

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Member {
  name: string;
  type: string; // scalar C type or `struct virtio_gpu_x`
  array: string | null; // null: scalar; '': flexible array; else the dimension text
}

/** Parses the header text: struct members, #define names with values, enum members. */
function parseHeader(text: string) {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, ' ');
  const defines = [...src.matchAll(/^\s*#\s*define\s+(VIRTIO_GPU_\w+)[ \t]+(\S.*)$/gm)].map((m) => m[1]);
  const enumMembers: string[] = [];
  for (const m of src.matchAll(/enum\s+(virtio_gpu_\w+)\s*\{([^}]*)\}/g)) {
    for (const part of m[2].split(',')) {
      const name = part.trim().split(/[\s=]/)[0];
      if (name) enumMembers.push(name);
    }
  }
  const body = src.replace(/^\s*#.*$/gm, ' ');
  const structs = new Map<string, Member[]>();
  // Innermost-first: repeatedly take a struct body without nested braces, record it, and replace
  // the definition with its name so the enclosing struct sees `struct virtio_gpu_x member[N];`.
  let work = body;
  const re = /struct\s+(virtio_gpu_\w+)\s*\{([^{}]*)\}/;
  for (let m = re.exec(work); m; m = re.exec(work)) {
    const members: Member[] = [];
    for (const decl of m[2].split(';')) {
      const d = decl.trim().replace(/\s+/g, ' ');
      if (!d) continue;
      const dm = /^(struct \w+|[\w]+(?: [\w]+)*?) ([\w\s,[\]]+)$/.exec(d);
      if (!dm) throw new Error(`cannot parse member "${d}" of ${m[1]}`);
      for (const declarator of dm[2].split(',')) {
        const am = /^\s*(\w+)\s*(?:\[\s*(\w*)\s*\])?\s*$/.exec(declarator);
        if (!am) throw new Error(`cannot parse declarator "${declarator}" of ${m[1]}`);
        members.push({ name: am[1], type: dm[1], array: am[2] === undefined ? null : am[2] });
      }
    }
    structs.set(m[1], members);
    work = work.slice(0, m.index) + `struct ${m[1]}` + work.slice(m.index + m[0].length);
  }
  return { defines, enumMembers, structs };
}

/** Field paths as LAYOUTS names them: nested non-array structs dotted, arrays whole. */
function fieldPaths(structs: Map<string, Member[]>, name: string, prefix = ''): { path: string; flexible: boolean }[] {
  const out: { path: string; flexible: boolean }[] = [];
  for (const m of structs.get(name) ?? []) {
    const nested = /^struct (\w+)$/.exec(m.type);
    if (nested && m.array === null) out.push(...fieldPaths(structs, nested[1], `${prefix}${m.name}.`));
    else out.push({ path: prefix + m.name, flexible: m.array === '' });
  }
  return out;
}

function generateProgram(parsed: ReturnType<typeof parseHeader>): string {
  const lines = ['#include <stdio.h>', '#include <stddef.h>', '#include <linux/virtio_gpu.h>', 'int main(void) {'];
  for (const name of parsed.structs.keys()) {
    lines.push(`  printf("S %s %zu\\n", "${name}", sizeof(struct ${name}));`);
    for (const { path, flexible } of fieldPaths(parsed.structs, name)) {
      const size = flexible ? '(size_t)0' : `sizeof(((struct ${name} *)0)->${path})`;
      lines.push(`  printf("F %s %s %zu %zu\\n", "${name}", "${path}", offsetof(struct ${name}, ${path}), ${size});`);
    }
  }
  for (const c of new Set([...parsed.defines, ...parsed.enumMembers])) {
    lines.push(`  printf("C %s %lld\\n", "${c}", (long long)(${c}));`);
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

interface Oracle {
  structs: Map<string, { size: number; fields: Map<string, { offset: number; size: number }> }>;
  constants: Map<string, number>;
}

function runOracle(): Oracle {
  const parsed = parseHeader(readFileSync(HEADER, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'virtio-gpu-oracle-'));
  try {
    writeFileSync(join(dir, 'oracle.c'), generateProgram(parsed));
    execFileSync('cc', ['-std=gnu11', '-Wall', '-Werror', '-o', join(dir, 'oracle'), join(dir, 'oracle.c')], { stdio: 'pipe' });
    const out = execFileSync(join(dir, 'oracle'), { encoding: 'utf8' });
    const oracle: Oracle = { structs: new Map(), constants: new Map() };
    for (const line of out.trim().split('\n')) {
      const [kind, a, b, c, d] = line.split(' ');
      if (kind === 'S') oracle.structs.set(a, { size: Number(b), fields: new Map() });
      else if (kind === 'F') oracle.structs.get(a)!.fields.set(b, { offset: Number(c), size: Number(d) });
      else if (kind === 'C') oracle.constants.set(a, Number(b));
    }
    return oracle;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const available = which('cc') && existsSync(HEADER);
const why = !existsSync(HEADER) ? `${HEADER} is missing (install linux-libc-dev)` : 'no C compiler `cc` (install gcc)';

describe('linux/virtio_gpu.h oracle', () => {
  it('has cc and the header (required when CI is set)', (ctx) => {
    if (available) return;
    if (IN_CI) throw new Error(`header oracle cannot run: ${why}`);
    console.warn(`skipping the header oracle: ${why}`);
    ctx.skip();
  });

  const oracle = available ? runOracle() : null;
  const t = oracle ? it : it.skip;

  t('parses a plausible header (guards against a vacuous comparison)', () => {
    expect(oracle!.structs.size).toBeGreaterThanOrEqual(30);
    expect(oracle!.structs.get('virtio_gpu_ctrl_hdr')!.fields.get('fence_id')).toEqual({ offset: 8, size: 8 });
    expect(oracle!.constants.get('VIRTIO_GPU_CMD_RESOURCE_CREATE_2D')).toBe(0x101);
  });

  t('every header struct and field is in LAYOUTS with the same size and offset', () => {
    for (const [name, s] of oracle!.structs) {
      expect(P.LAYOUTS[name], name).toBeDefined();
      expect(P.LAYOUTS[name].size, `sizeof(struct ${name})`).toBe(s.size);
      for (const [field, f] of s.fields) {
        expect(P.LAYOUTS[name].fields[field], `${name}.${field}`).toEqual(f);
      }
    }
  });

  t('everything in LAYOUTS is in the header (or a listed extra)', () => {
    for (const [name, layout] of Object.entries(P.LAYOUTS)) {
      if (KNOWN_EXTRA_STRUCTS.has(name)) continue;
      const s = oracle!.structs.get(name);
      expect(s, `struct ${name} in header`).toBeDefined();
      expect(Object.keys(layout.fields).sort(), name).toEqual([...s!.fields.keys()].sort());
    }
  });

  t('every header constant is exported with the same value', () => {
    const exports = P as unknown as Record<string, unknown>;
    for (const [name, value] of oracle!.constants) {
      expect(exports[name], name).toBe(value);
    }
  });

  t('every exported VIRTIO_GPU_* constant is in the header (or a listed extra)', () => {
    for (const [name, value] of Object.entries(P)) {
      if (!/^VIRTIO_GPU_[A-Z0-9_]+$/.test(name) || typeof value !== 'number') continue;
      if (KNOWN_EXTRA_CONSTANTS.has(name)) {
        expect(oracle!.constants.has(name) ? oracle!.constants.get(name) : value, name).toBe(value);
        continue;
      }
      expect(oracle!.constants.get(name), name).toBe(value);
    }
  });
});
