// WebSocket envelopes of the browser host (ws://127.0.0.1:PORT/ws), JSON encoded with codec.ts.
//   client -> server  { type: 'request', id, name, params }
//   server -> client  { type: 'response', id, ok: true, result } | { type: 'response', id, ok: false, error: { code, message } }
//                     { type: 'event', name, payload }
import { z } from 'zod';
import { RequestErrorSchema } from './schemas.js';

export const WS_PATH = '/ws';

export const ClientEnvelopeSchema = z.strictObject({
  type: z.literal('request'),
  id: z.int().min(0),
  name: z.string(),
  params: z.unknown(),
});

// A plain union: zod 4's discriminatedUnion rejects the two 'response' shapes (duplicate discriminator).
export const ServerEnvelopeSchema = z.union([
  z.strictObject({ type: z.literal('response'), id: z.int(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ type: z.literal('response'), id: z.int(), ok: z.literal(false), error: RequestErrorSchema }),
  z.strictObject({ type: z.literal('event'), name: z.string(), payload: z.unknown() }),
]);

export type ClientEnvelope = z.infer<typeof ClientEnvelopeSchema>;
export type ServerEnvelope = z.infer<typeof ServerEnvelopeSchema>;

/** Electron IPC channel names (the preload inlines them: a sandboxed preload cannot import). */
export const IPC_REQUEST_CHANNEL = 'bitlens:request';
export const IPC_PORT_CHANNEL = 'bitlens:events-port';
