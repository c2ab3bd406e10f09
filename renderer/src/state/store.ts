// The renderer's state: a small external store (useSyncExternalStore) fed by the host's events.
// Updates are immutable at the top level so React can compare snapshots by reference; big payloads
// (tap frames) are shared, never copied.
import type { StepStats, TapFrame } from '../../../engine/common/api.js';
import type {
  Conversation,
  ConversationSummary,
  EngineStatus,
  ModelEntry,
  TokenSpan,
} from '../../../contract/index.js';
import type { StatsPoint } from '../data/series.js';

export interface LiveGeneration {
  conversationId: string;
  messageId: string;
  tokens: TokenSpan[];
  text: string;
  stats: StepStats | null;
}

export interface Banner {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

/** The token the inspector shows: null = follow the live generation. */
export interface TokenSelection {
  conversationId: string;
  messageId: string;
  position: number;
}

export type SelectedFrame = { state: 'loading' } | { state: 'missing' } | { state: 'ready'; frame: TapFrame };

export interface AppState {
  models: ModelEntry[];
  activeModelId: string | null;
  engine: EngineStatus | null;
  conversations: ConversationSummary[];
  current: Conversation | null;
  generation: LiveGeneration | null;
  banners: Banner[];
  /** Recent live tap frames (oldest first), for outlier and sparsity views. */
  frames: TapFrame[];
  statsHistory: StatsPoint[];
  selection: TokenSelection | null;
  selectedFrame: SelectedFrame | null;
  /** The models.add in flight (importing a checkpoint can take minutes), with its progress. */
  adding: { source: string; fraction: number } | null;
}

export const RECENT_FRAMES = 32;
export const MAX_STATS_POINTS = 4000;

export function initialState(): AppState {
  return {
    models: [],
    activeModelId: null,
    engine: null,
    conversations: [],
    current: null,
    generation: null,
    banners: [],
    frames: [],
    statsHistory: [],
    selection: null,
    selectedFrame: null,
    adding: null,
  };
}

export class Store<S> {
  private listeners = new Set<() => void>();
  constructor(private state: S) {}
  get = (): S => this.state;
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  update(fn: (s: S) => S): void {
    const next = fn(this.state);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  }
}

/** Appends and keeps the last `max` items. */
export function pushBounded<T>(list: readonly T[], items: readonly T[], max: number): T[] {
  const out = list.concat(items);
  return out.length > max ? out.slice(out.length - max) : out;
}
