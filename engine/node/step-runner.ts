// What the generation loop needs from a backend: one step on new token ids after the cached ones.
// The ORT runner (ort-runner.ts) and the native CPU runner (native/native-runner.ts) implement it;
// engine.ts keeps validation, sampling, stop conditions and stats in one place for both.
import type { TapFrame } from '../common/api.js';
import type { LogitsNeed } from '../common/lm-head-screen.js';

/** Output of one step, already on the host. */
export interface StepOutput {
  /** The last token's logits; with a `need`, rows the sampler cannot pick may be -Infinity. */
  logits: Float32Array;
  taps?: TapFrame;
}

export interface StepRunner {
  /**
   * Runs `ids` after the cached tokens, advances the cache, returns the last token's logits (and
   * taps). `need` (lm-head-screen.ts): what the sampler will look at; a runner may then compute
   * only those logits exactly (the native screened LM head) or ignore it and return all (ORT).
   */
  step(ids: number[], need?: LogitsNeed): Promise<StepOutput> | StepOutput;
  /** Empties the cache. */
  reset(): void;
  /** Tokens in the cache. */
  readonly length: number;
  /** Frees what the runner holds; step() throws afterwards. */
  dispose(): Promise<void>;
  /** The screened LM head's counters, when the runner has one. */
  lmHeadStats?(): LmHeadStats | undefined;
}

/** Steps that screened the LM head and the rows they computed exactly; bytes of the int8 head copy. */
export interface LmHeadStats {
  steps: number;
  rescoredRows: number;
  bytes: number;
}
