// What the UI does with the host: requests, event handling and the resulting state changes.
import type { KvBits, Device, Scheme, SamplingOptions } from '../../../engine/common/api.js';
import type {
  BitLensHost,
  Conversation,
  EventPayload,
  GenerationStartedResult,
} from '../../../contract/index.js';
import { toPoint } from '../data/series.js';
import { MAX_STATS_POINTS, RECENT_FRAMES, Store, initialState, pushBounded, type AppState } from './store.js';

const CURRENT_KEY = 'bitlens.currentConversation';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface RunChoice {
  scheme: Scheme;
  kvBits: KvBits;
  device: Device;
}

export class AppController {
  readonly store = new Store<AppState>(initialState());
  private nextBanner = 1;
  private t0 = performance.now();
  private runs = 0;
  private unsubscribe: (() => void)[] = [];

  constructor(readonly host: BitLensHost) {}

  /** Subscribes to the host and loads models, engine status and the last open conversation. */
  async start(): Promise<void> {
    this.unsubscribe.push(
      this.host.on('generation.tokens', (e) => this.onTokens(e)),
      this.host.on('generation.done', (e) => this.onDone(e)),
      this.host.on('generation.error', (e) => this.onGenerationError(e)),
      this.host.on('engine.status', (e) => this.onEngineStatus(e)),
      this.host.on('store.error', (e) =>
        this.banner('error', `Storage problem: ${e.message}${e.backupPath ? ` (corrupt file kept at ${e.backupPath})` : ''}`),
      ),
      this.host.on('models.importProgress', (e) =>
        this.store.update((s) => (s.adding?.source === e.source ? { ...s, adding: { source: e.source, fraction: e.fraction } } : s)),
      ),
    );
    await this.guard(async () => {
      const [models, engine, list] = await Promise.all([
        this.host.request('models.list', {}),
        this.host.request('engine.status', {}),
        this.host.request('conversations.list', {}),
      ]);
      this.store.update((s) => ({ ...s, models: models.models, activeModelId: models.activeModelId, engine, conversations: list.conversations }));
      this.onEngineStatus(engine);
      const remembered = safeStorage()?.getItem(CURRENT_KEY);
      const open = list.conversations.find((c) => c.id === remembered) ?? list.conversations[0];
      if (open) await this.openConversation(open.id);
    });
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  banner(kind: 'error' | 'info', text: string): void {
    const id = this.nextBanner++;
    this.store.update((s) => ({ ...s, banners: [...s.banners.filter((b) => b.text !== text), { id, kind, text }] }));
  }

  dismissBanner(id: number): void {
    this.store.update((s) => ({ ...s, banners: s.banners.filter((b) => b.id !== id) }));
  }

  /** Runs a request; failures become an error banner. Returns undefined on failure. */
  async guard<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      this.banner('error', message(error));
      return undefined;
    }
  }

  async selectModel(modelId: string, run: RunChoice): Promise<boolean> {
    const status = await this.guard(() => this.host.request('models.select', { modelId, ...run, taps: true }));
    if (!status) return false;
    this.onEngineStatus(status);
    const models = await this.guard(() => this.host.request('models.list', {}));
    if (models) this.store.update((s) => ({ ...s, models: models.models, activeModelId: models.activeModelId }));
    return status.state === 'ready' || status.state === 'restarted';
  }

  /** Adds a model folder from disk; the host refuses anything that is not a valid model. */
  async addModel(folder: string): Promise<boolean> {
    this.store.update((s) => ({ ...s, adding: { source: folder, fraction: 0 } }));
    const entry = await this.guard(() => this.host.request('models.add', { folder }));
    this.store.update((s) => ({ ...s, adding: null }));
    if (!entry) return false;
    const models = await this.guard(() => this.host.request('models.list', {}));
    if (models) this.store.update((s) => ({ ...s, models: models.models }));
    this.banner('info', `Added model "${entry.name}" (${entry.dir}).`);
    return true;
  }

  async refreshConversations(): Promise<void> {
    const list = await this.guard(() => this.host.request('conversations.list', {}));
    if (list) this.store.update((s) => ({ ...s, conversations: list.conversations }));
  }

  async openConversation(conversationId: string): Promise<void> {
    const conv = await this.guard(() => this.host.request('conversations.get', { conversationId }));
    if (!conv) return;
    safeStorage()?.setItem(CURRENT_KEY, conv.id);
    this.store.update((s) => ({ ...s, current: conv, selection: null, selectedFrame: null }));
  }

  async newConversation(): Promise<Conversation | undefined> {
    const conv = await this.guard(() => this.host.request('conversations.create', {}));
    if (!conv) return undefined;
    safeStorage()?.setItem(CURRENT_KEY, conv.id);
    this.store.update((s) => ({ ...s, current: conv, selection: null, selectedFrame: null }));
    await this.refreshConversations();
    return conv;
  }

  async renameConversation(conversationId: string, title: string): Promise<void> {
    const conv = await this.guard(() => this.host.request('conversations.rename', { conversationId, title }));
    if (conv) this.replaceCurrent(conv);
    await this.refreshConversations();
  }

  async deleteConversation(conversationId: string): Promise<void> {
    const r = await this.guard(() => this.host.request('conversations.delete', { conversationId }));
    if (!r) return;
    this.store.update((s) => ({ ...s, current: s.current?.id === conversationId ? null : s.current }));
    await this.refreshConversations();
  }

  async updateSettings(conversationId: string, patch: { systemPrompt?: string; sampling?: Partial<SamplingOptions> }): Promise<void> {
    const conv = await this.guard(() => this.host.request('conversations.update', { conversationId, ...patch }));
    if (conv) this.replaceCurrent(conv);
  }

  async exportConversation(conversationId: string, format: 'json' | 'markdown') {
    return this.guard(() => this.host.request('conversations.export', { conversationId, format }));
  }

  /**
   * Sends the prompt (creating a conversation if none is open). Resolves with the conversation id
   * once the host accepted it (only then may the composer clear), else null.
   */
  async send(text: string): Promise<string | null> {
    const conv = this.store.get().current ?? (await this.newConversation());
    if (!conv) return null;
    const id = conv.id;
    return this.started(await this.guard(() => this.host.request('chat.send', { conversationId: id, text }))) ? id : null;
  }

  async regenerate(): Promise<boolean> {
    const conv = this.store.get().current;
    if (!conv) return false;
    return this.started(await this.guard(() => this.host.request('chat.regenerate', { conversationId: conv.id })));
  }

  async editAndContinue(messageIndex: number, text: string): Promise<boolean> {
    const conv = this.store.get().current;
    if (!conv) return false;
    return this.started(await this.guard(() => this.host.request('chat.editAndContinue', { conversationId: conv.id, messageIndex, text })));
  }

  async stop(): Promise<void> {
    const conv = this.store.get().generation?.conversationId ?? this.store.get().current?.id;
    if (conv) await this.guard(() => this.host.request('chat.stop', { conversationId: conv }));
  }

  /** Shows a past token in the inspector (null: back to live). */
  async inspectToken(sel: { conversationId: string; messageId: string; position: number } | null): Promise<void> {
    if (!sel) {
      this.store.update((s) => ({ ...s, selection: null, selectedFrame: null }));
      return;
    }
    const live = this.store.get().frames.find((f) => f.position === sel.position);
    const gen = this.store.get().generation;
    if (live && gen && gen.messageId === sel.messageId) {
      this.store.update((s) => ({ ...s, selection: sel, selectedFrame: { state: 'ready', frame: live } }));
      return;
    }
    this.store.update((s) => ({ ...s, selection: sel, selectedFrame: { state: 'loading' } }));
    const r = await this.guard(() => this.host.request('taps.get', sel));
    this.store.update((s) => {
      if (s.selection !== sel) return s;
      return { ...s, selectedFrame: r?.frame ? { state: 'ready', frame: r.frame } : { state: 'missing' } };
    });
  }

  private started(r: GenerationStartedResult | undefined): boolean {
    if (!r) return false;
    this.runs++;
    this.store.update((s) => ({
      ...s,
      current: r.conversation,
      generation: { conversationId: r.conversationId, messageId: r.assistantMessageId, tokens: [], text: '', stats: null },
      frames: [],
      selection: null,
      selectedFrame: null,
    }));
    void this.refreshConversations();
    return true;
  }

  private replaceCurrent(conv: Conversation): void {
    this.store.update((s) => (s.current?.id === conv.id ? { ...s, current: conv } : s));
  }

  private onTokens(e: EventPayload<'generation.tokens'>): void {
    const now = performance.now();
    this.store.update((s) => {
      const gen =
        s.generation && s.generation.messageId === e.messageId
          ? s.generation
          : { conversationId: e.conversationId, messageId: e.messageId, tokens: [], text: '', stats: null };
      return {
        ...s,
        generation: {
          ...gen,
          tokens: gen.tokens.concat(e.tokens),
          text: gen.text + e.tokens.map((t) => t.text).join(''),
          stats: e.stats,
        },
        frames: e.taps ? pushBounded(s.frames, [e.taps], RECENT_FRAMES) : s.frames,
        statsHistory: pushBounded(s.statsHistory, [toPoint(e.stats, now, this.t0, this.runs)], MAX_STATS_POINTS),
      };
    });
  }

  private onDone(e: EventPayload<'generation.done'>): void {
    this.store.update((s) => {
      const current =
        s.current && s.current.id === e.conversationId
          ? { ...s.current, messages: upsert(s.current.messages, e.message) }
          : s.current;
      const generation = s.generation?.messageId === e.messageId ? null : s.generation;
      return { ...s, current, generation };
    });
    void this.refreshConversations();
  }

  private onGenerationError(e: EventPayload<'generation.error'>): void {
    this.banner('error', `Generation failed: ${e.error}`);
    this.store.update((s) => ({ ...s, generation: s.generation?.messageId === e.messageId ? null : s.generation }));
    // The host keeps the partial answer in the stored message.
    if (this.store.get().current?.id === e.conversationId) void this.openConversation(e.conversationId);
  }

  private onEngineStatus(status: EventPayload<'engine.status'>): void {
    this.store.update((s) => ({ ...s, engine: status }));
    if (status.state === 'crashed') this.banner('error', `The engine crashed${status.error ? `: ${status.error}` : ''}. It is being restarted; your conversation is safe.`);
    else if (status.state === 'error') this.banner('error', `The model could not be loaded${status.error ? `: ${status.error}` : ''}.`);
    else if (status.state === 'restarted') this.banner('info', 'The engine was restarted after a crash.');
  }
}

function upsert<T extends { id: string }>(list: readonly T[], item: T): T[] {
  const i = list.findIndex((m) => m.id === item.id);
  if (i < 0) return [...list, item];
  const out = list.slice();
  out[i] = item;
  return out;
}

/** localStorage, or null where it is unavailable (sandboxed or opaque origins). */
export function safeStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
