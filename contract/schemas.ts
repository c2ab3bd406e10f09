// Payload schemas shared by every request and event of the contract (zod). Engine shapes mirror
// engine/common/api.ts; the `satisfies`/type checks at the bottom keep the two in step.
import { z } from 'zod';
import { DEVICES, KV_BITS, SITES } from '../engine/common/api.js';
import type { RunOptions, SamplingOptions, StepStats, TapFrame, LayerTaps, FinishReason } from '../engine/common/api.js';
import { EXPERIMENTS } from '../engine/common/experiment.js';
import { SCHEMES } from '../engine/common/scheme.js';

export const Id = z.string().min(1).max(200);
export const SchemeSchema = z.enum(SCHEMES);
export const DeviceSchema = z.enum(DEVICES);
export const KvBitsSchema = z.union(KV_BITS.map((b) => z.literal(b)) as [z.ZodLiteral<16>, z.ZodLiteral<8>, z.ZodLiteral<4>, z.ZodLiteral<3>]);
export const SiteSchema = z.enum(SITES);

export const RunOptionsSchema = z.strictObject({
  scheme: SchemeSchema,
  kvBits: KvBitsSchema,
  device: DeviceSchema,
  taps: z.boolean(),
  experiment: z.enum(EXPERIMENTS).optional(),
});

export const SamplingSchema = z.strictObject({
  maxTokens: z.int().min(1).max(32768),
  temperature: z.number().min(0).max(5),
  topK: z.int().min(0),
  topP: z.number().gt(0).max(1),
  repetitionPenalty: z.number().gt(0).max(5),
  seed: z.int().min(0).optional(),
  stop: z.array(z.string().min(1)).max(16),
});

export const DEFAULT_SAMPLING: SamplingOptions = {
  maxTokens: 256,
  temperature: 0.7,
  topK: 40,
  topP: 0.95,
  repetitionPenalty: 1.1,
  stop: [],
};

export const StepStatsSchema = z.strictObject({
  phase: z.enum(['prefill', 'decode']),
  promptTokens: z.number(),
  generatedTokens: z.number(),
  timeToFirstTokenMs: z.number(),
  prefillTokensPerSec: z.number(),
  decodeTokensPerSec: z.number(),
  rssBytes: z.number(),
  kvCacheBytes: z.number(),
  kvCacheBytesFp16: z.number(),
});

const F32 = z.custom<Float32Array>((v) => v instanceof Float32Array, { message: 'expected a Float32Array' });
export const LayerTapsSchema = z.strictObject({
  qkv: F32,
  o: F32,
  gateup: F32,
  down: F32,
  oPreHadamard: F32.optional(),
  downPreHadamard: F32.optional(),
});

export const TapFrameSchema = z.strictObject({
  position: z.int().min(0),
  tokenId: z.int().min(0),
  layers: z.array(LayerTapsSchema),
});

export const FinishReasonSchema = z.enum(['eos', 'stop', 'length', 'cancelled', 'error']);

/** Per assistant message: what produced it and how fast. */
export const MessageStatsSchema = z.strictObject({
  modelId: Id,
  modelName: z.string(),
  scheme: SchemeSchema,
  /** Set when the message came from an experiment run (engine/common/experiment.ts). */
  experiment: z.enum(EXPERIMENTS).optional(),
  kvBits: KvBitsSchema,
  /** The execution provider actually used. */
  device: DeviceSchema,
  promptTokens: z.number(),
  generatedTokens: z.number(),
  tokensPerSec: z.number(),
  prefillTokensPerSec: z.number(),
  timeToFirstTokenMs: z.number(),
  totalMs: z.number(),
});

/** One token of an assistant message: its sequence position (the key for taps.get) and text. */
export const TokenSpanSchema = z.strictObject({
  position: z.int().min(0),
  tokenId: z.int().min(0),
  text: z.string(),
});

export const MessageSchema = z.strictObject({
  id: Id,
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  createdAt: z.string(),
  /** Assistant only. */
  tokens: z.array(TokenSpanSchema).optional(),
  stats: MessageStatsSchema.optional(),
  finishReason: FinishReasonSchema.optional(),
  error: z.string().optional(),
});

export const ConversationSchema = z.strictObject({
  id: Id,
  title: z.string().max(500),
  createdAt: z.string(),
  updatedAt: z.string(),
  systemPrompt: z.string().max(100_000),
  sampling: SamplingSchema,
  messages: z.array(MessageSchema),
});

export const ConversationSummarySchema = z.strictObject({
  id: Id,
  title: z.string(),
  updatedAt: z.string(),
  messageCount: z.int(),
});

/** A model the app knows: the embedded default(s) and folders the user added. */
export const ModelEntrySchema = z.strictObject({
  id: Id,
  name: z.string(),
  description: z.string().optional(),
  dir: z.string(),
  builtin: z.boolean(),
  /** Architecture summary from config.json. */
  trainedScheme: SchemeSchema,
  hiddenSize: z.int(),
  numLayers: z.int(),
  contextLength: z.int(),
  vocabSize: z.int(),
  /** Run options the user chose for this model (defaults: trained scheme, 16-bit KV, auto). */
  run: RunOptionsSchema,
});

export const ProjectionStatsSchema = z.strictObject({
  rows: z.number(),
  cols: z.number(),
  alpha: z.number(),
  zeroFraction: z.number(),
});

/** engine/common/api.ts ModelInfo as sent to the UI. */
export const ModelInfoSchema = z.strictObject({
  name: z.string(),
  dir: z.string(),
  config: z.record(z.string(), z.unknown()),
  run: RunOptionsSchema,
  device: DeviceSchema.exclude(['auto']),
  deviceNote: z.string().optional(),
  experimentNote: z.string().optional(),
  contextLength: z.number(),
  weightBytesPacked: z.number(),
  weightBytesFp16: z.number(),
  projections: z.array(z.record(z.string(), ProjectionStatsSchema)),
});

/**
 * The engine process' state. `restarted` = ready again after a crash (the open conversation is
 * intact; a generation that was running is ended with generation.error).
 */
export const EngineStateSchema = z.enum(['idle', 'starting', 'ready', 'crashed', 'restarted', 'error']);

export const EngineStatusSchema = z.strictObject({
  state: EngineStateSchema,
  modelId: Id.nullable(),
  /** Set once the model is loaded. */
  info: ModelInfoSchema.optional(),
  device: DeviceSchema.exclude(['auto']).optional(),
  deviceNote: z.string().optional(),
  /** Why the engine crashed or failed to load. */
  error: z.string().optional(),
  restarts: z.int().min(0),
  /** Conversation currently generating, if any. */
  busyConversationId: Id.nullable(),
});

/** How a failed request is reported (WebSocket envelope, Electron invoke result). */
export const ERROR_CODES = [
  'invalid_request',
  'not_found',
  'invalid_model',
  'engine_unavailable',
  'busy',
  'store_error',
  'internal',
] as const;
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export const RequestErrorSchema = z.strictObject({ code: ErrorCodeSchema, message: z.string() });

export type Message = z.infer<typeof MessageSchema>;
export type MessageStats = z.infer<typeof MessageStatsSchema>;
export type TokenSpan = z.infer<typeof TokenSpanSchema>;
export type Conversation = z.infer<typeof ConversationSchema>;
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;
export type ModelEntry = z.infer<typeof ModelEntrySchema>;
export type ModelInfoPayload = z.infer<typeof ModelInfoSchema>;
export type EngineState = z.infer<typeof EngineStateSchema>;
export type EngineStatus = z.infer<typeof EngineStatusSchema>;
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;
export type RequestError = z.infer<typeof RequestErrorSchema>;
export type MessageFinishReason = z.infer<typeof FinishReasonSchema>;

// Compile-time checks that the schemas accept exactly the engine's types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameChecks: [
  Same<z.infer<typeof RunOptionsSchema>, RunOptions>,
  Same<z.infer<typeof SamplingSchema>, SamplingOptions>,
  Same<z.infer<typeof StepStatsSchema>, StepStats>,
  Same<z.infer<typeof TapFrameSchema>, TapFrame>,
  Same<z.infer<typeof LayerTapsSchema>, LayerTaps>,
  Same<Exclude<MessageFinishReason, 'error'>, FinishReason>,
] = [true, true, true, true, true, true];
void sameChecks;
export type { SamplingOptions };
