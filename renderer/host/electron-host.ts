// The Electron client: wraps the preload's window.bitlens bridge (electron/preload.cts) with the
// contract's types, result validation and per-animation-frame batching.
import {
  BitLensError,
  ERROR_CODES,
  parseRequestResult,
  type BitLensHost,
  type ErrorCode,
  type EventName,
  type EventPayload,
  type PreloadBridge,
  type RequestName,
  type RequestParams,
  type RequestResult,
} from '../../contract/index.js';
import { EventListeners } from './listeners.js';

export class ElectronHost implements BitLensHost {
  readonly kind = 'electron' as const;
  private readonly listeners = new EventListeners();

  constructor(private readonly bridge: PreloadBridge) {
    bridge.onEvent((name, payload) => this.listeners.receive(name, payload));
  }

  on<K extends EventName>(name: K, listener: (payload: EventPayload<K>) => void): () => void {
    return this.listeners.on(name, listener);
  }

  async request<K extends RequestName>(name: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    const reply = await this.bridge.request(name, params);
    if (!reply.ok) {
      const code = (ERROR_CODES as readonly string[]).includes(reply.error.code) ? (reply.error.code as ErrorCode) : 'internal';
      throw new BitLensError(code, reply.error.message);
    }
    return parseRequestResult(name, reply.result);
  }
}
