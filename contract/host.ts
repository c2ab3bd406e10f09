// What the renderer talks to: the same interface whether it runs in Electron (preload bridge) or
// in a browser (WebSocket to the browser host). renderer/host/ provides getHost().
import type { RequestName, RequestParams, RequestResult } from './requests.js';
import type { EventName, EventPayload } from './events.js';

export interface BitLensHost {
  readonly kind: 'electron' | 'browser';
  /** Rejects with a BitLensError ({ code, message }) when the host refuses or fails. */
  request<K extends RequestName>(name: K, params: RequestParams<K>): Promise<RequestResult<K>>;
  /**
   * Subscribe to an event; returns the unsubscribe function. generation.tokens is delivered at
   * most once per animation frame (batches merged: tokens concatenated, latest stats and taps).
   */
  on<K extends EventName>(name: K, listener: (payload: EventPayload<K>) => void): () => void;
}

/** The Electron preload's bridge (window.bitlens): untyped at the boundary, typed by the host wrapper. */
export interface PreloadBridge {
  request(name: string, params: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: { code: string; message: string } }>;
  onEvent(listener: (name: string, payload: unknown) => void): () => void;
}
