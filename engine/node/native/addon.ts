// Loads the native CPU addon (native/, built by `npm install` through scripts/build-native.mjs).
// Never throws at import: loadNativeAddon() says why the addon is unavailable (not built, failed
// to load, or no kernel path for this CPU), and requireNativeAddon() turns that into a clear error.
// The addon itself picks AVX-512 / AVX2 / NEON / portable kernels from the CPU's features at run
// time, so a build never executes an instruction the CPU lacks.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayerTapsF64 } from '../../common/reference.js';
import type { LmHeadStats } from '../step-runner.js';

export const NATIVE_ISAS = ['portable', 'avx2', 'avx512', 'neon'] as const;
export type NativeIsa = (typeof NATIVE_ISAS)[number];

export interface NativeCpuInfo {
  /** CPU features the dispatcher looked at (e.g. avx2, avx512vnni). */
  features: string[];
  /** Kernel paths this CPU and build can run. */
  supported: NativeIsa[];
  /** The path used by default. */
  best: NativeIsa;
}

export type NativeQuantKind = 'int8' | 'int4' | 'int8-top50' | 'kv';

/** The per-layer quantizer inputs of the last token: float64, the same shape as ReferenceModel.lastTaps. */
export type NativeLayerTaps = LayerTapsF64;

/** Milliseconds per phase since the model was created (where decode time goes). */
export interface NativeProfile {
  quant: number;
  matmul: number;
  attention: number;
  lmHead: number;
  other: number;
}

/** What the sampler needs (lm-head-screen.ts LogitsNeed) in the addon's types. */
export interface NativeLogitsNeed {
  k: number;
  penalty: number;
  context: Int32Array;
}


/** The int8 LM head on its own (tests, benchmarks): approx() bounds |exact() - zhat| by bound, row by row. */
export interface NativeLmHead {
  /** null when h admits no bound (non-finite, or large enough to overflow float32 sums). */
  approx(h: Float32Array): { zhat: Float64Array; bound: Float64Array } | null;
  exact(h: Float32Array): Float32Array;
  /** candidates: the rows computed exactly (null: the full head ran). */
  screened(h: Float32Array, need: NativeLogitsNeed): { logits: Float32Array; candidates: Int32Array | null };
  readonly bytes: number;
}

export type NativeLmHeadMode = 'f32' | 'int8';

export interface NativeModelHandle {
  /** With `need` and the screened head: exact logits for the rows the sampler can pick, -Infinity elsewhere. */
  forward(ids: Int32Array, need?: NativeLogitsNeed): Float32Array;
  /** null with the full head (run.lmHead 'full'). */
  headStats(): LmHeadStats | null;
  reset(): void;
  taps(): NativeLayerTaps[];
  profile(): NativeProfile;
  readonly position: number;
  readonly isa: NativeIsa;
  readonly threads: number;
  readonly weightBytes: number;
}

export interface NativeAddon {
  cpuInfo(): NativeCpuInfo;
  /** `isa`: the kernel path (default: the fastest this CPU runs). */
  quantize(kind: NativeQuantKind, x: Float64Array | Float32Array, bits?: number, isa?: NativeIsa): { q: Int8Array; scale: number };
  /** In place over the whole array (width = its length); `threads` > 1 splits the float64 H_K step over a pool. */
  hadamard(x: Float64Array | Float32Array, inverse?: boolean, isa?: NativeIsa, threads?: number): void;
  /**
   * Integer products of packed ternary rows (docs/model-format.md layout) with `batch` int8 vectors;
   * with `subset` (row indices), only those rows are computed and the others are 0.
   */
  ternaryMatmul(packed: Uint8Array, rows: number, cols: number, xq: Int8Array, batch: number, isa?: NativeIsa, subset?: Uint32Array): Int32Array;
  NativeModel: new (spec: object, run: object) => NativeModelHandle;
  /** mode: 'int8' (h as two int8 digits, VNNI) or 'f32'; default int8 on avx512, else f32. */
  LmHead: new (table: Uint16Array | Float32Array, rows: number, cols: number, options?: { isa?: NativeIsa; threads?: number; mode?: NativeLmHeadMode }) => NativeLmHead;
  /** The candidate rule of native/src/lm_head.h on given intervals (compare with lm-head-screen.ts). */
  screenCandidates(zhat: Float64Array, bound: Float64Array, need: NativeLogitsNeed): Int32Array;
}

export type NativeStatus = { available: true; addon: NativeAddon; cpu: NativeCpuInfo; path: string } | { available: false; reason: string };

export class NativeUnavailableError extends Error {
  constructor(reason: string) {
    super(`the native CPU backend is unavailable: ${reason}`);
    this.name = 'NativeUnavailableError';
  }
}

const ADDON_FILE = path.join('native', 'build', 'Release', 'bitlens_native.node');

/** native/build/Release/bitlens_native.node above this module (source tree, dist/ or an unpacked app), or BITLENS_NATIVE_ADDON. */
function findAddon(): string | undefined {
  const env = process.env.BITLENS_NATIVE_ADDON;
  if (env) return env;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const base of [dir, dir.replace(/app\.asar(?=[\\/]|$)/, 'app.asar.unpacked')]) {
      const p = path.join(base, ADDON_FILE);
      if (existsSync(p)) return p;
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

let cached: NativeStatus | undefined;

export function loadNativeAddon(): NativeStatus {
  if (cached) return cached;
  const file = findAddon();
  if (!file) {
    cached = { available: false, reason: `${ADDON_FILE} not found (it is built by "npm install"; run "npm run build:native" to see why it was not)` };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    const cpu = addon.cpuInfo();
    cached = { available: true, addon, cpu, path: file };
  } catch (e) {
    cached = { available: false, reason: `${file} could not be loaded: ${(e as Error).message}` };
  }
  return cached;
}

export function requireNativeAddon(): NativeAddon {
  const s = loadNativeAddon();
  if (!s.available) throw new NativeUnavailableError(s.reason);
  return s.addon;
}

/** Throws a clear error when `isa` cannot run here (unknown name, other architecture, CPU lacks it). */
export function checkIsa(isa: string): NativeIsa {
  if (!(NATIVE_ISAS as readonly string[]).includes(isa)) throw new RangeError(`unknown native kernel path ${JSON.stringify(isa)} (expected one of ${NATIVE_ISAS.join(', ')})`);
  const s = loadNativeAddon();
  if (!s.available) throw new NativeUnavailableError(s.reason);
  if (!(s.cpu.supported as string[]).includes(isa)) {
    throw new NativeUnavailableError(`this CPU cannot run the ${isa} kernels (CPU features: ${s.cpu.features.join(' ') || 'none detected'}; usable: ${s.cpu.supported.join(', ')})`);
  }
  return isa as NativeIsa;
}
