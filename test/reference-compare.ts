// Comparing a backend's outputs with ReferenceModel's (engine/common/reference.ts): shared by the ONNX
// Runtime, v2-retrofit and native backend tests.
import { expect } from 'vitest';
import type { LayerTapsF64 } from '../engine/common/reference.js';

type TapField = keyof LayerTapsF64;

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Asserts that every layer has exactly the reference's tap fields, each of the same length, and
 * returns the largest |difference| over all of them (callers bound it).
 */
export function maxTapDiff(got: readonly Partial<Record<TapField, ArrayLike<number>>>[], want: readonly LayerTapsF64[]): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  want.forEach((layer, l) => {
    expect(Object.keys(got[l]).sort(), `layer ${l} tap fields`).toEqual(Object.keys(layer).sort());
    for (const [field, v] of Object.entries(layer) as [TapField, Float64Array][]) {
      const g = got[l][field]!;
      expect(g.length, `layer ${l} ${field}`).toBe(v.length);
      m = Math.max(m, maxDiff(g, v));
    }
  });
  return m;
}
