// Every request the UI can make, with the schema of its parameters and of its result. Hosts
// validate params before acting (a malformed request is answered with `invalid_request` naming the
// field) and the clients may validate results.
import { z } from 'zod';
import {
  ConversationSchema,
  ConversationSummarySchema,
  EngineStatusSchema,
  Id,
  ModelEntrySchema,
  RunOptionsSchema,
  SamplingSchema,
  TapFrameSchema,
} from './schemas.js';

const ConversationRef = z.strictObject({ conversationId: Id });
const MessageText = z.string().min(1).max(200_000);

/** What chat.send / regenerate / editAndContinue answer once the generation has started. */
const GenerationStarted = z.strictObject({
  conversationId: Id,
  /** The conversation as stored when generation started (user message included). */
  conversation: ConversationSchema,
  /** The assistant message that generation.tokens / done / error events refer to. */
  assistantMessageId: Id,
});

export const requests = {
  'models.list': {
    params: z.strictObject({}),
    result: z.strictObject({ models: z.array(ModelEntrySchema), activeModelId: Id.nullable() }),
  },
  /** Add a model folder from disk; refused with `invalid_model` and the reason if it is not one. */
  'models.add': {
    params: z.strictObject({ folder: z.string().min(1).max(4096) }),
    result: ModelEntrySchema,
  },
  /** Load a model with the given run options (remembered per model); resolves once it is ready. */
  'models.select': {
    params: z.strictObject({ modelId: Id, ...RunOptionsSchema.shape }),
    result: EngineStatusSchema,
  },
  'conversations.list': {
    params: z.strictObject({}),
    result: z.strictObject({ conversations: z.array(ConversationSummarySchema) }),
  },
  'conversations.get': { params: ConversationRef, result: ConversationSchema },
  'conversations.create': {
    params: z.strictObject({
      title: z.string().max(500).optional(),
      systemPrompt: z.string().max(100_000).optional(),
      sampling: SamplingSchema.partial().optional(),
    }),
    result: ConversationSchema,
  },
  'conversations.rename': {
    params: z.strictObject({ conversationId: Id, title: z.string().min(1).max(500) }),
    result: ConversationSchema,
  },
  'conversations.delete': { params: ConversationRef, result: z.strictObject({ deleted: z.boolean() }) },
  /** Change the system prompt and/or sampling settings (partial: only the given fields change). */
  'conversations.update': {
    params: z.strictObject({
      conversationId: Id,
      systemPrompt: z.string().max(100_000).optional(),
      sampling: SamplingSchema.partial().optional(),
    }),
    result: ConversationSchema,
  },
  'conversations.export': {
    params: z.strictObject({ conversationId: Id, format: z.enum(['json', 'markdown']) }),
    result: z.strictObject({ filename: z.string(), mimeType: z.string(), content: z.string() }),
  },
  /** Append a user message and generate the answer (streamed as generation.* events). */
  'chat.send': {
    params: z.strictObject({ conversationId: Id, text: MessageText }),
    result: GenerationStarted,
  },
  /** Stop the running generation; the partial answer is kept (finishReason `cancelled`). */
  'chat.stop': { params: ConversationRef, result: z.strictObject({ stopped: z.boolean() }) },
  /** Drop the last assistant message and generate it again. */
  'chat.regenerate': { params: ConversationRef, result: GenerationStarted },
  /** Replace the user message at messageIndex, drop everything after it, and generate. */
  'chat.editAndContinue': {
    params: z.strictObject({ conversationId: Id, messageIndex: z.int().min(0), text: MessageText }),
    result: GenerationStarted,
  },
  /**
   * The inspector frame of a past token of an assistant message (TokenSpan.position). Frames are
   * kept in memory, bounded (recent messages, recent tokens of each): `frame` is null when it has
   * been dropped or taps were off.
   */
  'taps.get': {
    params: z.strictObject({ conversationId: Id, messageId: Id, position: z.int().min(0) }),
    result: z.strictObject({ frame: TapFrameSchema.nullable() }),
  },
  'engine.status': { params: z.strictObject({}), result: EngineStatusSchema },
} as const;

export type Requests = typeof requests;
export type RequestName = keyof Requests;
export const REQUEST_NAMES = Object.keys(requests) as RequestName[];
export type RequestParams<K extends RequestName> = z.input<Requests[K]['params']>;
/** Params after validation (what a host's handler receives). */
export type ParsedParams<K extends RequestName> = z.output<Requests[K]['params']>;
export type RequestResult<K extends RequestName> = z.output<Requests[K]['result']>;
export type GenerationStartedResult = z.infer<typeof GenerationStarted>;

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}
