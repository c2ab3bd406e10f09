// Event fan-out shared by both host clients: typed subscriptions, generation.tokens through the
// per-animation-frame batcher, and generation.done/error only after pending tokens are delivered.
import { isEventName, parseEvent, type EventName, type EventPayload } from '../../contract/index.js';
import { FrameBatcher, type FrameScheduler } from './frame-batcher.js';

type Listener = (payload: never) => void;

export class EventListeners {
  private readonly listeners = new Map<EventName, Set<Listener>>();
  private readonly batcher: FrameBatcher;

  constructor(schedule?: FrameScheduler) {
    this.batcher = new FrameBatcher((payload) => this.emit('generation.tokens', payload), schedule);
  }

  on<K extends EventName>(name: K, listener: (payload: EventPayload<K>) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** An event as received from the host (untrusted shape): validated, then batched or delivered. */
  receive(name: string, payload: unknown): void {
    if (!isEventName(name)) {
      console.warn(`BitLens host: ignoring unknown event ${name}`);
      return;
    }
    let parsed: EventPayload<typeof name>;
    try {
      parsed = parseEvent(name, payload);
    } catch (error) {
      console.warn(`BitLens host: ignoring malformed event: ${(error as Error).message}`);
      return;
    }
    if (name === 'generation.tokens') {
      this.batcher.push(parsed as EventPayload<'generation.tokens'>);
      return;
    }
    if (name === 'generation.done' || name === 'generation.error') this.batcher.flush();
    this.emit(name, parsed);
  }

  private emit<K extends EventName>(name: K, payload: EventPayload<K>): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as (p: EventPayload<K>) => void)(payload);
      } catch (error) {
        console.error(`BitLens host: ${name} listener failed`, error);
      }
    }
  }
}
