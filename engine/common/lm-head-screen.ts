// The screened LM head's rule (native/src/lm_head.h runs it; this module is its specification and
// the tests' oracle). A backend with approximate logits zhat and bounds b (|z - zhat| <= b for the
// exact logits z) needs the exact logits only of the rows that can still be among the top k after
// the repetition penalty: every other row may be -Infinity without changing what sampleToken picks.
import type { SamplingOptions } from './api.js';
import { penalise } from './sampling.js';

/** What the sampler needs from the next logits: the top `k` after `repetitionPenalty` over `context`. */
export interface LogitsNeed {
  k: number;
  repetitionPenalty: number;
  /** Prompt and generated tokens so far (the penalised ids). */
  context: readonly number[];
}

/**
 * What sampleToken looks at for these options, or undefined when it needs every logit: greedy
 * (temperature 0) needs the top 1; top-k sampling the top k (it draws among the k most likely
 * after the penalty; top-p and the temperature act inside them); plain temperature sampling all.
 */
export function logitsNeed(s: SamplingOptions, context: readonly number[]): LogitsNeed | undefined {
  const k = s.temperature === 0 ? 1 : s.topK;
  return k > 0 ? { k, repetitionPenalty: s.repetitionPenalty, context } : undefined;
}

/**
 * The rows (ascending ids) whose exact logits the sampler may need: with [lo, hi] =
 * penalise([zhat - b, zhat + b]) on context ids (else unchanged) and L the k-th largest lo, the
 * rows with hi >= L. Any true top-k row qualifies: the k rows with the largest lo have exact values
 * >= L, so the k-th largest exact value is >= L; rows tied with it qualify too, so sampleToken's
 * tie-break (lowest id) sees them all. Rows with a non-finite zhat or b are always kept.
 */
export function screenCandidates(zhat: ArrayLike<number>, bound: ArrayLike<number>, need: LogitsNeed): Int32Array {
  const n = zhat.length;
  if (bound.length !== n) throw new RangeError(`zhat has ${n} rows but bound has ${bound.length}`);
  if (!Number.isInteger(need.k) || need.k < 1 || need.k > n) throw new RangeError(`k must be an integer in 1..${n}, got ${need.k}`);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(zhat[i]) && Number.isFinite(bound[i])) {
      lo[i] = zhat[i] - bound[i];
      hi[i] = zhat[i] + bound[i];
    } else {
      lo[i] = -Infinity;
      hi[i] = Infinity;
    }
  }
  if (need.repetitionPenalty !== 1) {
    for (const id of new Set(need.context)) {
      if (id < 0 || id >= n) continue;
      lo[id] = penalise(lo[id], need.repetitionPenalty);
      hi[id] = penalise(hi[id], need.repetitionPenalty);
    }
  }
  const L = Float64Array.from(lo).sort()[n - need.k];
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (hi[i] >= L) out.push(i);
  return Int32Array.from(out);
}
