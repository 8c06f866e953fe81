/**
 * The GitHub workflows (CI, native build matrix, release) cannot run here, so they are checked
 * with actionlint (types, expressions, runner labels, action inputs, and shellcheck on run:
 * scripts when shellcheck is installed). .ci/run builds actionlint into .cache/bin.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const local = `${root}.cache/bin/actionlint`;
const bin = existsSync(local) ? local : spawnSync('actionlint', ['-version']).status === 0 ? 'actionlint' : null;
// Outside CI a machine without actionlint skips (say why); .ci/run installs it, so CI never skips.
if (!bin && !process.env.CI) console.warn('workflow lint skipped: actionlint not installed (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)');

it.runIf(bin !== null || Boolean(process.env.CI))('.github/workflows pass actionlint', () => {
  expect(bin, 'actionlint missing: .ci/run installs it into .cache/bin').not.toBeNull();
  const r = spawnSync(bin!, ['-no-color'], { cwd: root, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
  for (const f of ['ci.yml', 'native-build.yml', 'release.yml']) expect(existsSync(`${root}.github/workflows/${f}`)).toBe(true);
});
