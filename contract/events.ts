// Everything the host pushes to the UI unasked.
import { z } from 'zod';
import { EngineStatusSchema, FinishReasonSchema, Id, MessageSchema, StepStatsSchema, TapFrameSchema, TokenSpanSchema } from './schemas.js';

export const events = {
  /**
   * Tokens of the running generation, batched (the host sends at most one per ~16 ms; the
   * renderer host merges further to one per animation frame): the new tokens in order, the
   * latest stats, and the latest inspector frame when taps are on.
   */
  'generation.tokens': z.strictObject({
    conversationId: Id,
    messageId: Id,
    tokens: z.array(TokenSpanSchema),
    stats: StepStatsSchema,
    taps: TapFrameSchema.optional(),
  }),
  /**
   * The finished assistant message as stored (content, tokens, stats, finishReason). It is
   * authoritative: its text can end with characters no token event carried (an incomplete UTF-8
   * sequence decoded at the end).
   */
  'generation.done': z.strictObject({
    conversationId: Id,
    messageId: Id,
    message: MessageSchema,
    finishReason: FinishReasonSchema,
  }),
  /** Generation failed (engine crash, load failure...); the partial answer is kept in the message. */
  'generation.error': z.strictObject({ conversationId: Id, messageId: Id, error: z.string() }),
  'engine.status': EngineStatusSchema,
  /** The store met a corrupt or unwritable file; corrupt files are moved to `backupPath`, never deleted. */
  'store.error': z.strictObject({ message: z.string(), file: z.string().optional(), backupPath: z.string().optional() }),
  /**
   * Progress of a models.add that imports a checkpoint (Hugging Face folder or GGUF file): `source`
   * is the folder as requested, `fraction` of the output written (at most one event per ~100 ms,
   * always ending with 1), `stage` what is being done (e.g. the tensor being written).
   */
  'models.importProgress': z.strictObject({ source: z.string(), fraction: z.number().min(0).max(1), stage: z.string().optional() }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export const EVENT_NAMES = Object.keys(events) as EventName[];
export type EventPayload<K extends EventName> = z.output<Events[K]>;

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}
