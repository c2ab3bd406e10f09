// The native addon for the tests: they fail (not skip) when it is missing, with the loader's reason.
import { loadNativeAddon, type NativeAddon, type NativeIsa } from '../../engine/node/native/addon.js';
import { Rng } from '../../engine/common/random-model.js';

export function addon(): NativeAddon {
  const s = loadNativeAddon();
  if (!s.available) throw new Error(`native addon unavailable: ${s.reason}`);
  return s.addon;
}

/** Every kernel path this machine can run (portable always). */
export function isas(): NativeIsa[] {
  const s = loadNativeAddon();
  return s.available ? s.cpu.supported : ['portable'];
}

export function randomTernary(rng: Rng, n: number): Int8Array {
  return Int8Array.from({ length: n }, () => (rng.nextU32() % 3) - 1);
}

/** int8 activations including the extremes -128 and 127. */
export function randomInt8(rng: Rng, n: number, lo = -128, hi = 127): Int8Array {
  return Int8Array.from({ length: n }, (_, i) => (i % 17 === 0 ? (i % 34 ? hi : lo) : lo + (rng.nextU32() % (hi - lo + 1))));
}
