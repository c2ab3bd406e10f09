// An in-memory BitLensHost for component tests: answers the requests the UI makes from a small
// conversation store and lets the test push events. Parameters and results go through the
// contract's zod schemas, so a UI that sends a malformed request fails the test.
import { parseRequestParams, parseRequestResult, parseEvent, BitLensError, DEFAULT_SAMPLING } from '../../contract/index.js';
import type { BitLensHost, Conversation, EngineStatus, EventName, EventPayload, ModelInfoPayload, RequestName, RequestParams, RequestResult } from '../../contract/index.js';

export const INFO: ModelInfoPayload = {
  name: 'fake',
  dir: '/models/fake',
  config: {},
  run: { scheme: 'v2-a4', kvBits: 16, device: 'cpu', taps: true },
  device: 'cpu',
  contextLength: 256,
  weightBytesPacked: 1024 * 1024,
  weightBytesFp16: 8 * 1024 * 1024,
  projections: [
    Object.fromEntries(['q', 'k', 'v', 'o', 'gate', 'up', 'down'].map((p) => [p, { rows: 8, cols: 8, alpha: 0.1, zeroFraction: 0.25 }])),
  ],
};

export class FakeHost implements BitLensHost {
  readonly kind = 'browser' as const;
  readonly calls: { name: string; params: unknown }[] = [];
  conversations: Conversation[] = [];
  /** Requests named here are refused with this error. */
  refuse: Partial<Record<RequestName, BitLensError>> = {};
  /** Requests named here are answered only once this promise settles (to test in-flight UI). */
  hold: Partial<Record<RequestName, Promise<void>>> = {};
  private listeners = new Map<string, Set<(p: unknown) => void>>();
  private next = 1;
  status: EngineStatus = { state: 'ready', modelId: 'm1', info: INFO, device: 'cpu', restarts: 0, busyConversationId: null };

  on<K extends EventName>(name: K, listener: (payload: EventPayload<K>) => void): () => void {
    const set = this.listeners.get(name) ?? new Set();
    set.add(listener as (p: unknown) => void);
    this.listeners.set(name, set);
    return () => set.delete(listener as (p: unknown) => void);
  }

  emit<K extends EventName>(name: K, payload: EventPayload<K>): void {
    const parsed = parseEvent(name, payload);
    for (const l of this.listeners.get(name) ?? []) l(parsed);
  }

  async request<K extends RequestName>(name: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    const p = parseRequestParams(name, params) as Record<string, unknown>;
    this.calls.push({ name, params: p });
    const refused = this.refuse[name];
    if (refused) throw refused;
    await this.hold[name];
    return parseRequestResult(name, this.answer(name, p));
  }

  private conv(id: unknown): Conversation {
    const c = this.conversations.find((x) => x.id === id);
    if (!c) throw new BitLensError('not_found', `no conversation ${String(id)}`);
    return c;
  }

  private answer(name: RequestName, p: Record<string, unknown>): unknown {
    const now = new Date(0).toISOString();
    switch (name) {
      case 'models.list':
        return { models: [{ id: 'm1', name: 'fake', dir: '/models/fake', builtin: true, trainedScheme: 'v2-a4', hiddenSize: 8, numLayers: 1, contextLength: 256, vocabSize: 260, run: INFO.run }], activeModelId: 'm1' };
      case 'models.add':
        return { id: 'm2', name: 'added', dir: String(p.folder), builtin: false, trainedScheme: 'b1.58', hiddenSize: 8, numLayers: 1, contextLength: 256, vocabSize: 260, run: INFO.run };
      case 'engine.status':
      case 'models.select':
        return this.status;
      case 'conversations.list':
        return { conversations: this.conversations.map((c) => ({ id: c.id, title: c.title, updatedAt: c.updatedAt, messageCount: c.messages.length })) };
      case 'conversations.get':
        return this.conv(p.conversationId);
      case 'conversations.create': {
        const c: Conversation = { id: `c${this.next++}`, title: 'New chat', createdAt: now, updatedAt: now, systemPrompt: '', sampling: DEFAULT_SAMPLING, messages: [] };
        this.conversations.push(c);
        return c;
      }
      case 'conversations.update': {
        const c = this.conv(p.conversationId);
        if (typeof p.systemPrompt === 'string') c.systemPrompt = p.systemPrompt;
        if (p.sampling) c.sampling = { ...c.sampling, ...(p.sampling as object) };
        return c;
      }
      case 'chat.send': {
        const c = this.conv(p.conversationId);
        c.messages.push({ id: `u${this.next++}`, role: 'user', content: String(p.text), createdAt: now });
        if (c.title === 'New chat') c.title = String(p.text);
        return { conversationId: c.id, conversation: structuredClone(c), assistantMessageId: 'a1' };
      }
      case 'chat.stop':
        return { stopped: true };
      default:
        throw new BitLensError('invalid_request', `FakeHost does not answer ${name}`);
    }
  }
}
