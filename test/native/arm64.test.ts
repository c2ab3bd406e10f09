// The NEON kernels, which an x86 machine never runs: native/src is cross-compiled for AArch64 with the
// harness arm64/neon_check.cc and run under qemu-aarch64 (on an Arm machine: compiled and run
// directly). The harness compares NEON with the portable kernels bit for bit. CI installs the cross
// compiler and qemu (.ci/run); elsewhere the test is skipped when they are missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = path.join(root, 'native', 'src');
const native = process.arch === 'arm64';
const cxx = native ? 'c++' : 'aarch64-linux-gnu-g++';
const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const available = has(cxx) && (native || has('qemu-aarch64'));

describe('AArch64 NEON kernels (cross-compiled, run under qemu)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bitlens-arm64-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!available && !process.env.CI)('NEON equals the portable kernels: integer products and whole forward passes', () => {
    expect(available, `${cxx}${native ? '' : ' and qemu-aarch64'} needed (Debian: apt-get install g++-aarch64-linux-gnu qemu-user)`).toBe(true);
    const exe = path.join(dir, 'neon_check');
    // The build script's flags that matter for the arithmetic (-ffp-contract=off), without Node-API.
    // Every source but the Node-API glue and the x86 units (named *_avx2.cc / *_avx512.cc, as in build-native.mjs).
    const sources = readdirSync(src).filter((f) => f.endsWith('.cc') && f !== 'addon.cc' && !/_avx(2|512)\.cc$/.test(f)).map((f) => path.join(src, f));
    execFileSync(cxx, ['-std=c++17', '-O2', '-ffp-contract=off', '-pthread', '-DBITLENS_HAVE_NEON_KERNELS', `-I${src}`,
      ...(native ? [] : ['-static']), path.join(root, 'test', 'native', 'arm64', 'neon_check.cc'), ...sources, '-o', exe], { stdio: 'pipe' });
    const run = spawnSync(native ? exe : 'qemu-aarch64', native ? [] : [exe], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stdout + run.stderr).toMatch(/^ok \d+/);
    expect(run.status).toBe(0);
  }, 240_000);
});
