// Next-token selection from logits: greedy, temperature, top-k, top-p and repetition penalty, with a
// seeded PRNG so a given seed reproduces a generation. Pure TypeScript (the renderer may import it).
import type { SamplingOptions } from './api.js';

/** Deterministic PRNG (mulberry32): uniform floats in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  maxTokens: 128,
  temperature: 0,
  topK: 0,
  topP: 1,
  repetitionPenalty: 1,
  stop: [],
};

/** Throws a RangeError naming the first invalid field. */
export function validateSampling(s: SamplingOptions): void {
  const bad = (field: string, why: string, v: unknown) => {
    throw new RangeError(`invalid sampling option ${field}=${JSON.stringify(v)}: ${why}`);
  };
  if (!Number.isInteger(s.maxTokens) || s.maxTokens < 1) bad('maxTokens', 'must be an integer >= 1', s.maxTokens);
  if (!Number.isFinite(s.temperature) || s.temperature < 0) bad('temperature', 'must be a number >= 0 (0 = greedy)', s.temperature);
  if (!Number.isInteger(s.topK) || s.topK < 0) bad('topK', 'must be an integer >= 0 (0 = off)', s.topK);
  if (!Number.isFinite(s.topP) || s.topP <= 0 || s.topP > 1) bad('topP', 'must be in (0, 1] (1 = off)', s.topP);
  if (!Number.isFinite(s.repetitionPenalty) || s.repetitionPenalty <= 0) {
    bad('repetitionPenalty', 'must be a number > 0 (1 = off)', s.repetitionPenalty);
  }
  if (s.seed !== undefined && !Number.isInteger(s.seed)) bad('seed', 'must be an integer', s.seed);
  if (!Array.isArray(s.stop) || s.stop.some((x) => typeof x !== 'string' || x.length === 0)) {
    bad('stop', 'must be a list of non-empty strings', s.stop);
  }
}

/** Index of the largest value; ties go to the lowest index. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The repetition penalty's map of one logit: monotone increasing for penalty > 0. */
export function penalise(x: number, penalty: number): number {
  return x > 0 ? x / penalty : x * penalty;
}

/**
 * HF-style repetition penalty (CTRL paper): for every token already in the context, a positive
 * logit is divided by `penalty` and a negative one multiplied by it. Returns a penalised copy.
 */
export function applyRepetitionPenalty(logits: ArrayLike<number>, context: Iterable<number>, penalty: number): Float64Array {
  const out = Float64Array.from(logits as ArrayLike<number>);
  if (penalty === 1) return out;
  for (const id of new Set(context)) {
    if (id < 0 || id >= out.length) continue;
    out[id] = penalise(out[id], penalty);
  }
  return out;
}

/**
 * argmax(applyRepetitionPenalty(logits, context, penalty)) without the copy of the whole vocabulary
 * (a decode step's largest host cost on a fast GPU): the penalised values of the context's tokens,
 * the raw logits elsewhere, ties to the lowest id.
 */
export function greedyToken(logits: ArrayLike<number>, context: Iterable<number>, penalty: number): number {
  const raw = argmax(logits);
  if (penalty === 1) return raw;
  const seen = new Set(context);
  // A penalty > 1 only lowers values: an unpenalised raw argmax stays the argmax (ties included).
  if (penalty > 1 && !seen.has(raw)) return raw;
  const ids = [...seen].filter((id) => id >= 0 && id < logits.length).sort((a, b) => a - b);
  let best = 0;
  let bestValue = ids[0] === 0 ? penalise(logits[0], penalty) : logits[0];
  for (let i = 1, k = ids[0] === 0 ? 1 : 0; i < logits.length; i++) {
    let v = logits[i];
    if (i === ids[k]) {
      v = penalise(v, penalty);
      k++;
    }
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

/**
 * Picks the next token. `context` holds the prompt and the tokens generated so far (for the
 * repetition penalty); `random` is a PRNG from seededRandom. Order: penalty, temperature, top-k,
 * top-p (smallest set of most likely tokens whose probability reaches p), then one draw.
 */
export function sampleToken(logits: ArrayLike<number>, s: SamplingOptions, context: Iterable<number>, random: () => number): number {
  if (s.temperature === 0) return greedyToken(logits, context, s.repetitionPenalty);
  const z = applyRepetitionPenalty(logits, context, s.repetitionPenalty);
  // Candidates, most likely first (stable: ties keep the lower id first).
  let ids = Array.from(z.keys()).filter((i) => Number.isFinite(z[i]) || z[i] === Infinity);
  ids.sort((a, b) => z[b] - z[a] || a - b);
  if (s.topK > 0 && s.topK < ids.length) ids = ids.slice(0, s.topK);
  const maxZ = z[ids[0]];
  const weights = ids.map((i) => Math.exp((z[i] - maxZ) / s.temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  if (s.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < ids.length && cum < s.topP * total) cum += weights[keep++];
    ids = ids.slice(0, Math.max(1, keep));
    weights.length = ids.length;
    total = weights.reduce((a, b) => a + b, 0);
  }
  let r = random() * total;
  for (let k = 0; k < ids.length; k++) {
    r -= weights[k];
    if (r < 0) return ids[k];
  }
  return ids[ids.length - 1];
}
