// The browser host's client: the contract over one WebSocket (contract/wire.ts), reconnecting
// after the connection drops.
import {
  BitLensError,
  ServerEnvelopeSchema,
  decodeWire,
  encodeWire,
  parseRequestResult,
  type BitLensHost,
  type ErrorCode,
  type EventName,
  type EventPayload,
  type RequestName,
  type RequestParams,
  type RequestResult,
} from '../../contract/index.js';
import { EventListeners } from './listeners.js';
import type { FrameScheduler } from './frame-batcher.js';

/** The subset of the WebSocket API used here (browser WebSocket, or `ws` in Node tests). */
export interface WebSocketLike {
  readyState: number;
  onopen: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

interface Pending {
  name: RequestName;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class WebSocketHost implements BitLensHost {
  readonly kind = 'browser' as const;
  private socket: WebSocketLike | null = null;
  private opened: Promise<WebSocketLike> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: EventListeners;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly WebSocketImpl: WebSocketConstructor = globalThis.WebSocket as unknown as WebSocketConstructor,
    schedule?: FrameScheduler,
  ) {
    this.listeners = new EventListeners(schedule);
    void this.connect().catch(() => undefined);
  }

  on<K extends EventName>(name: K, listener: (payload: EventPayload<K>) => void): () => void {
    return this.listeners.on(name, listener);
  }

  async request<K extends RequestName>(name: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    const socket = await this.connect();
    const id = this.nextId++;
    const result = new Promise<unknown>((resolve, reject) => this.pending.set(id, { name, resolve, reject }));
    try {
      socket.send(encodeWire({ type: 'request', id, name, params }));
    } catch (error) {
      this.pending.delete(id);
      throw new BitLensError('engine_unavailable', `could not send ${name} to the BitLens host: ${(error as Error).message}`);
    }
    return parseRequestResult(name, await result);
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private connect(): Promise<WebSocketLike> {
    if (this.closed) return Promise.reject(new BitLensError('engine_unavailable', 'host connection closed'));
    if (this.opened) return this.opened;
    this.opened = new Promise<WebSocketLike>((resolve, reject) => {
      const socket = new this.WebSocketImpl(this.url);
      this.socket = socket;
      socket.onopen = () => resolve(socket);
      socket.onmessage = (ev) => this.receive(ev.data);
      socket.onerror = () => reject(new BitLensError('engine_unavailable', `cannot reach the BitLens host at ${this.url}`));
      socket.onclose = () => {
        this.opened = null;
        this.socket = null;
        reject(new BitLensError('engine_unavailable', `cannot reach the BitLens host at ${this.url}`));
        for (const [id, p] of this.pending) {
          p.reject(new BitLensError('engine_unavailable', `connection to the BitLens host lost during ${p.name}`));
          this.pending.delete(id);
        }
        // Reconnect so events keep flowing after the host comes back.
        if (!this.closed) setTimeout(() => void this.connect().catch(() => undefined), 1000);
      };
    });
    return this.opened;
  }

  private receive(data: unknown): void {
    let envelope;
    try {
      envelope = ServerEnvelopeSchema.parse(decodeWire(String(data)));
    } catch (error) {
      console.warn(`BitLens host: malformed message: ${(error as Error).message}`);
      return;
    }
    if (envelope.type === 'event') {
      this.listeners.receive(envelope.name, envelope.payload);
      return;
    }
    const pending = this.pending.get(envelope.id);
    if (!pending) return;
    this.pending.delete(envelope.id);
    if (envelope.ok) pending.resolve(envelope.result);
    else pending.reject(new BitLensError(envelope.error.code as ErrorCode, envelope.error.message));
  }
}
