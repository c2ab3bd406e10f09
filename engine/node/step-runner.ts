// What the generation loop needs from a backend: one step on new token ids after the cached ones.
// The ORT runner (ort-runner.ts) and the native CPU runner (native/native-runner.ts) implement it;
// engine.ts keeps validation, sampling, stop conditions and stats in one place for both.
import type { TapFrame } from '../common/api.js';

/** Output of one step, already on the host. */
export interface StepOutput {
  logits: Float32Array;
  taps?: TapFrame;
}

export interface StepRunner {
  /** Runs `ids` after the cached tokens, advances the cache, returns the last token's logits (and taps). */
  step(ids: number[]): Promise<StepOutput> | StepOutput;
  /** Empties the cache. */
  reset(): void;
  /** Tokens in the cache. */
  readonly length: number;
  /** Frees what the runner holds; step() throws afterwards. */
  dispose(): Promise<void>;
}
