// OpenAI-compatible local API (what LM Studio, Jan and Ollama users point their tools at):
// GET /v1/models and POST /v1/chat/completions (JSON or SSE streaming), bearer token required,
// malformed requests answered with OpenAI-style 4xx JSON errors. Mounted on 127.0.0.1 only and
// off unless a token is configured.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_SAMPLING, formatIssues } from '../contract/index.js';
import type { ChatMessage, FinishReason, SamplingOptions } from '../engine/common/api.js';
import type { AppService } from './core/service.js';

const MAX_BODY_BYTES = 1024 * 1024;

const ContentSchema = z.union([
  z.string(),
  z.array(z.object({ type: z.literal('text'), text: z.string() })).min(1),
]);

// Loose object: clients send fields we do not use (user, stream_options, logprobs...).
const ChatCompletionSchema = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: ContentSchema })).min(1),
  stream: z.boolean().optional(),
  max_tokens: z.int().min(1).max(32768).nullish(),
  max_completion_tokens: z.int().min(1).max(32768).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.int().min(0).nullish(),
  repetition_penalty: z.number().gt(0).max(5).nullish(),
  seed: z.int().min(0).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.literal(1).nullish(),
});
type ChatCompletionRequest = z.infer<typeof ChatCompletionSchema>;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, e: ApiError): void {
  sendJson(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(match[1]!.trim()).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`, 'invalid_request_error');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function textOf(content: z.infer<typeof ContentSchema>): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

function samplingFrom(r: ChatCompletionRequest): SamplingOptions {
  const stop = r.stop == null ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop;
  return {
    ...DEFAULT_SAMPLING,
    maxTokens: r.max_completion_tokens ?? r.max_tokens ?? DEFAULT_SAMPLING.maxTokens,
    temperature: r.temperature ?? DEFAULT_SAMPLING.temperature,
    topP: r.top_p ?? DEFAULT_SAMPLING.topP,
    topK: r.top_k ?? DEFAULT_SAMPLING.topK,
    repetitionPenalty: r.repetition_penalty ?? 1,
    ...(r.seed != null && { seed: r.seed }),
    stop: stop.filter((s) => s.length > 0),
  };
}

const finishReason = (r: FinishReason) => (r === 'length' ? 'length' : 'stop');

export interface OpenAIApiOptions {
  service: AppService;
  token: string;
}

/** Handles /v1/* requests; returns false for any other path. */
export function createOpenAIHandler({ service, token }: OpenAIApiOptions) {
  if (token.length < 8) throw new Error('the API token must be at least 8 characters');

  const loadedModel = () => {
    const status = service.engine.status;
    return status.modelId && (status.state === 'ready' || status.state === 'restarted') ? status.modelId : null;
  };

  async function chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ApiError(400, `request body is not valid JSON: ${(e as Error).message}`, 'invalid_request_error', 'invalid_json');
    }
    const parsed = ChatCompletionSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw new ApiError(400, formatIssues('body', parsed.error), 'invalid_request_error', 'invalid_value', first.path.map(String).join('.') || null);
    }
    const r = parsed.data;
    const model = loadedModel();
    if (!model) throw new ApiError(503, 'no model is loaded yet; select one in BitLens', 'server_error', 'model_not_loaded');
    if (r.model !== model) {
      throw new ApiError(404, `model ${r.model} is not loaded (the loaded model is ${model}; see GET /v1/models)`, 'invalid_request_error', 'model_not_found', 'model');
    }
    const messages: ChatMessage[] = r.messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: textOf(m.content) }));
    const sampling = samplingFrom(r);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });

    if (!r.stream) {
      const result = await service.complete(messages, sampling, undefined, abort.signal);
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: result.text }, finish_reason: finishReason(result.finishReason) }],
        usage: {
          prompt_tokens: result.stats.promptTokens,
          completion_tokens: result.stats.generatedTokens,
          total_tokens: result.stats.promptTokens + result.stats.generatedTokens,
        },
      });
      return;
    }

    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const chunk = (delta: Record<string, string>, finish: string | null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
    chunk({ role: 'assistant', content: '' }, null);
    let sent = '';
    try {
      const result = await service.complete(messages, sampling, (step) => {
        if (!step.text) return;
        sent += step.text;
        chunk({ content: step.text }, null);
      }, abort.signal);
      // Text the steps did not carry (an incomplete UTF-8 sequence decoded at the end).
      if (result.text.length > sent.length && result.text.startsWith(sent)) chunk({ content: result.text.slice(sent.length) }, null);
      chunk({}, finishReason(result.finishReason));
      res.write('data: [DONE]\n\n');
    } catch (e) {
      res.write(`data: ${JSON.stringify({ error: { message: (e as Error).message, type: 'server_error', param: null, code: null } })}\n\n`);
    }
    res.end();
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/v1/')) return false;
    try {
      if (!tokenMatches(req.headers.authorization, token)) {
        throw new ApiError(401, 'missing or wrong bearer token (Authorization: Bearer <token>)', 'invalid_request_error', 'invalid_api_key');
      }
      if (url.pathname === '/v1/models') {
        if (req.method !== 'GET') throw new ApiError(405, 'use GET /v1/models', 'invalid_request_error', 'method_not_allowed');
        const model = loadedModel();
        const created = Math.floor(Date.now() / 1000);
        sendJson(res, 200, { object: 'list', data: model ? [{ id: model, object: 'model', created, owned_by: 'bitlens' }] : [] });
      } else if (url.pathname === '/v1/chat/completions') {
        if (req.method !== 'POST') throw new ApiError(405, 'use POST /v1/chat/completions', 'invalid_request_error', 'method_not_allowed');
        await chatCompletions(req, res);
      } else {
        throw new ApiError(404, `unknown endpoint ${url.pathname} (this server has /v1/models and /v1/chat/completions)`, 'invalid_request_error', 'unknown_url');
      }
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(500, (e as Error).message, 'server_error');
      if (!res.headersSent) sendError(res, error);
      else res.end();
    }
    return true;
  };
}
