// The host-neutral application: every contract request (conversations, chat, models, taps),
// generation streaming with batched events, and the store. The browser host and the Electron main
// process both wrap one of these; only transports differ.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  BitLensError,
  DEFAULT_SAMPLING,
  parseRequest,
  type Conversation,
  type EventName,
  type EventPayload,
  type GenerationStartedResult,
  type Message,
  type ParsedParams,
  type RequestName,
  type RequestResult,
  type TokenSpan,
} from '../../contract/index.js';
import type { ChatMessage, GenerationResult, GenerationStep, SamplingOptions, StepStats } from '../../engine/common/api.js';
import { EngineHost, type EngineFactory } from './engine-host.js';
import { exportConversation } from './export.js';
import { Lock } from './lock.js';
import { ModelManager } from './models.js';
import { ConversationStore, type StoreProblem } from './store.js';
import { TapCache } from './tap-cache.js';

export type Emit = <K extends EventName>(name: K, payload: EventPayload<K>) => void;

export interface ServiceOptions {
  dataDir: string;
  /** Folder of embedded models (each a model folder). */
  modelsDir?: string;
  engineFactory: EngineFactory;
  emit: Emit;
  /** How often batched generation.tokens events go out. */
  batchIntervalMs?: number;
  tapBudgetBytes?: number;
}

const NEW_TITLE = 'New conversation';

interface Running {
  conversationId: string;
  messageId: string;
  abort: AbortController;
}

export class AppService {
  readonly engine: EngineHost;
  private readonly lock = new Lock();
  private readonly taps: TapCache;
  private running: Running | null = null;
  private readonly storeProblems: StoreProblem[] = [];

  private constructor(
    private readonly opts: ServiceOptions,
    readonly store: ConversationStore,
    readonly models: ModelManager,
  ) {
    this.engine = new EngineHost(opts.engineFactory, (status) => opts.emit('engine.status', status));
    this.taps = new TapCache(opts.tapBudgetBytes);
  }

  static async create(opts: ServiceOptions): Promise<AppService> {
    const problems: StoreProblem[] = [];
    const report = (p: StoreProblem) => {
      problems.push(p);
      opts.emit('store.error', p);
    };
    const store = await ConversationStore.open(opts.dataDir, report);
    const models = await ModelManager.open({ dataDir: opts.dataDir, modelsDir: opts.modelsDir, report });
    const service = new AppService(opts, store, models);
    service.storeProblems.push(...problems);
    return service;
  }

  /** Problems found while opening the store (replayed to clients that connect later). */
  get startupProblems(): readonly StoreProblem[] {
    return this.storeProblems;
  }

  /** Load the active model in the background (status goes out as engine.status events). */
  startDefaultModel(): Promise<void> {
    const id = this.models.activeId;
    if (!id) return Promise.resolve();
    const m = this.models.get(id);
    return this.engine.load(id, m.dir, m.run).then(
      () => undefined,
      () => undefined, // reported through engine.status (state 'error')
    );
  }

  async close(): Promise<void> {
    this.running?.abort.abort();
    await this.engine.close();
    await this.store.flush();
  }

  /** Validate and run one untrusted request. Throws BitLensError. */
  async handle(name: unknown, params: unknown): Promise<unknown> {
    const request = parseRequest(name, params);
    const handler = this.handlers[request.name] as (p: unknown) => Promise<unknown>;
    return handler(request.params);
  }

  /** One handler per request, typed by the contract (params already validated). */
  private readonly handlers: { [K in RequestName]: (p: ParsedParams<K>) => Promise<RequestResult<K>> } = {
    'models.list': async () => ({ models: this.models.list(), activeModelId: this.engine.status.modelId ?? this.models.activeId }),
    'models.add': (p) =>
      this.models.add(p.folder, (fraction, stage) => this.opts.emit('models.importProgress', { source: p.folder, fraction, ...(stage !== undefined && { stage }) })),
    'models.select': async ({ modelId, ...run }) => {
      const entry = this.models.get(modelId);
      const release = await this.lock.acquire();
      try {
        await this.models.select(modelId, run);
        return await this.engine.load(modelId, entry.dir, run);
      } finally {
        release();
      }
    },
    'conversations.list': async () => ({ conversations: this.store.list() }),
    'conversations.get': async (p) => this.conversation(p.conversationId),
    'conversations.create': async (p) => {
      const now = new Date().toISOString();
      const c: Conversation = {
        id: randomUUID(),
        title: p.title || NEW_TITLE,
        createdAt: now,
        updatedAt: now,
        systemPrompt: p.systemPrompt ?? '',
        sampling: { ...DEFAULT_SAMPLING, ...p.sampling },
        messages: [],
      };
      await this.save(c);
      return c;
    },
    'conversations.rename': async (p) => {
      const c = this.conversation(p.conversationId);
      c.title = p.title;
      await this.save(c);
      return c;
    },
    'conversations.update': async (p) => {
      const c = this.conversation(p.conversationId);
      if (p.systemPrompt !== undefined) c.systemPrompt = p.systemPrompt;
      if (p.sampling) c.sampling = { ...c.sampling, ...p.sampling };
      await this.save(c);
      return c;
    },
    'conversations.delete': async (p) => {
      if (this.running?.conversationId === p.conversationId) this.running.abort.abort();
      for (const m of this.store.get(p.conversationId)?.messages ?? []) this.taps.drop(m.id);
      return { deleted: await this.store.delete(p.conversationId) };
    },
    'conversations.export': async (p) => exportConversation(this.conversation(p.conversationId), p.format),
    'chat.send': async (p) => {
      const c = this.conversation(p.conversationId);
      c.messages.push({ id: randomUUID(), role: 'user', content: p.text, createdAt: new Date().toISOString() });
      if (c.title === NEW_TITLE) c.title = p.text.replace(/\s+/g, ' ').trim().slice(0, 60);
      return this.startGeneration(c);
    },
    'chat.regenerate': async (p) => {
      const c = this.conversation(p.conversationId);
      if (c.messages.at(-1)?.role === 'assistant') this.taps.drop(c.messages.pop()!.id);
      if (c.messages.at(-1)?.role !== 'user') throw new BitLensError('invalid_request', 'chat.regenerate: the conversation has no user message to answer');
      return this.startGeneration(c);
    },
    'chat.editAndContinue': async (p) => {
      const c = this.conversation(p.conversationId);
      const target = c.messages[p.messageIndex];
      if (!target) throw new BitLensError('invalid_request', `chat.editAndContinue.messageIndex: no message ${p.messageIndex} (the conversation has ${c.messages.length})`);
      if (target.role !== 'user') throw new BitLensError('invalid_request', `chat.editAndContinue.messageIndex: message ${p.messageIndex} is an assistant message; only user messages can be edited`);
      for (const dropped of c.messages.splice(p.messageIndex + 1)) this.taps.drop(dropped.id);
      c.messages[p.messageIndex] = { ...target, content: p.text };
      return this.startGeneration(c);
    },
    'chat.stop': async (p) => {
      const r = this.running;
      if (!r || r.conversationId !== p.conversationId) return { stopped: false };
      r.abort.abort();
      return { stopped: true };
    },
    'taps.get': async (p) => ({ frame: this.taps.get(p.messageId, p.position) }),
    'engine.status': async () => this.engine.status,
  };

  private conversation(id: string): Conversation {
    const c = this.store.get(id);
    if (!c) throw new BitLensError('not_found', `no conversation with id ${id}`);
    return c;
  }

  private async save(c: Conversation): Promise<void> {
    c.updatedAt = new Date().toISOString();
    try {
      await this.store.save(c);
    } catch (error) {
      const problem = { message: `could not save conversation "${c.title}": ${(error as Error).message}` };
      this.opts.emit('store.error', problem);
      throw new BitLensError('store_error', problem.message);
    }
  }

  /**
   * Persist the conversation (user turn acknowledged), then generate in the background. Resolves
   * once generation has the engine, with the id the generation.* events will carry.
   */
  private async startGeneration(c: Conversation): Promise<GenerationStartedResult> {
    if (this.running?.conversationId === c.id) throw new BitLensError('busy', 'this conversation is already generating');
    await this.save(c);
    const release = await this.lock.acquire();
    const messageId = randomUUID();
    const running: Running = { conversationId: c.id, messageId, abort: new AbortController() };
    this.running = running;
    this.engine.setBusy(c.id);
    void this.generate(c, running).finally(() => {
      this.running = null;
      this.engine.setBusy(null);
      release();
    });
    return { conversationId: c.id, conversation: c, assistantMessageId: messageId };
  }

  private async generate(c: Conversation, running: Running): Promise<void> {
    const { messageId } = running;
    const started = performance.now();
    const tokens: TokenSpan[] = [];
    let pending: TokenSpan[] = [];
    let lastStats: StepStats | null = null;
    let lastTaps: GenerationStep['taps'];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (!lastStats || (pending.length === 0 && !lastTaps)) return;
      this.opts.emit('generation.tokens', {
        conversationId: c.id,
        messageId,
        tokens: pending,
        stats: lastStats,
        ...(lastTaps && { taps: lastTaps }),
      });
      pending = [];
      lastTaps = undefined;
    };
    const onStep = (step: GenerationStep) => {
      const span = { position: step.stats.promptTokens + tokens.length, tokenId: step.tokenId, text: step.text };
      tokens.push(span);
      pending.push(span);
      lastStats = step.stats;
      if (step.taps) {
        this.taps.put(messageId, step.taps);
        lastTaps = step.taps;
      }
      timer ??= setTimeout(flush, this.opts.batchIntervalMs ?? 16);
    };

    const history: ChatMessage[] = [];
    if (c.systemPrompt) history.push({ role: 'system', content: c.systemPrompt });
    for (const m of c.messages) history.push({ role: m.role, content: m.content });

    let result: GenerationResult | null = null;
    let error: string | null = null;
    try {
      result = await this.engine.generate({ messages: history }, c.sampling, onStep, running.abort.signal);
    } catch (e) {
      error = (e as Error).message;
    }
    // The final text can hold what no step carried (an incomplete UTF-8 sequence decoded at the
    // end): give it to the last token so the tokens always spell the message.
    const streamed = tokens.map((t) => t.text).join('');
    const last = tokens.at(-1);
    if (result && last && result.text.length > streamed.length && result.text.startsWith(streamed)) {
      const extra = { ...last, text: last.text + result.text.slice(streamed.length) };
      tokens[tokens.length - 1] = extra;
      // Already sent: generation.done's message carries it.
      const i = pending.indexOf(last);
      if (i >= 0) pending[i] = extra;
    }
    flush();

    const status = this.engine.status;
    const info = status.info;
    const entry = status.modelId ? this.models.list().find((m) => m.id === status.modelId) : undefined;
    const stats = result?.stats ?? lastStats;
    const message: Message = {
      id: messageId,
      role: 'assistant',
      content: result?.text ?? tokens.map((t) => t.text).join(''),
      createdAt: new Date().toISOString(),
      tokens,
      finishReason: result?.finishReason ?? 'error',
      ...(error !== null && { error }),
      ...(stats &&
        info &&
        status.modelId && {
          stats: {
            modelId: status.modelId,
            modelName: entry?.name ?? info.name,
            scheme: info.run.scheme,
            ...(info.run.experiment && { experiment: info.run.experiment }),
            kvBits: info.run.kvBits,
            device: info.device,
            promptTokens: stats.promptTokens,
            generatedTokens: stats.generatedTokens,
            tokensPerSec: stats.decodeTokensPerSec,
            prefillTokensPerSec: stats.prefillTokensPerSec,
            timeToFirstTokenMs: stats.timeToFirstTokenMs,
            totalMs: performance.now() - started,
          },
        }),
    };
    // Re-read: the user may have renamed or edited settings meanwhile; deleted means drop it.
    const latest = this.store.get(c.id);
    if (latest) {
      latest.messages = [...c.messages, message];
      await this.save(latest).catch(() => undefined);
    }
    if (error !== null && !running.abort.signal.aborted) {
      this.opts.emit('generation.error', { conversationId: c.id, messageId, error });
    } else {
      this.opts.emit('generation.done', { conversationId: c.id, messageId, message, finishReason: message.finishReason! });
    }
  }

  /** For the OpenAI-compatible API: one generation on the shared engine, queued behind others. */
  async complete(
    messages: ChatMessage[],
    sampling: SamplingOptions,
    onStep?: (step: GenerationStep) => void,
    signal?: AbortSignal,
  ): Promise<GenerationResult> {
    const release = await this.lock.acquire();
    try {
      return await this.engine.generate({ messages }, sampling, onStep, signal);
    } finally {
      release();
    }
  }
}

/** The user data folder's default location for the browser host. */
export function defaultDataDir(): string {
  const home = process.env.HOME ?? process.env.USERPROFILE ?? '.';
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? home, 'BitLens');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'BitLens');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'BitLens');
}
