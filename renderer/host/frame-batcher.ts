// Delivers generation.tokens at most once per animation frame: batches that arrive between two
// frames are merged (tokens concatenated, latest stats and tap frame kept), so a fast engine
// never makes React render more than the screen can show.
import type { EventPayload } from '../../contract/index.js';

type TokensPayload = EventPayload<'generation.tokens'>;

export type FrameScheduler = (callback: () => void) => void;

export const animationFrameScheduler: FrameScheduler = (callback) => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => callback());
  else setTimeout(callback, 16);
};

export class FrameBatcher {
  private pending = new Map<string, TokensPayload>();
  private scheduled = false;

  constructor(
    private readonly deliver: (payload: TokensPayload) => void,
    private readonly schedule: FrameScheduler = animationFrameScheduler,
  ) {}

  push(payload: TokensPayload): void {
    const previous = this.pending.get(payload.messageId);
    this.pending.set(
      payload.messageId,
      previous
        ? { ...payload, tokens: previous.tokens.concat(payload.tokens), taps: payload.taps ?? previous.taps }
        : payload,
    );
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Deliver what is pending now (also called before generation.done so no tokens trail it). */
  flush(): void {
    this.scheduled = false;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const batch of batches) this.deliver(batch);
  }
}
