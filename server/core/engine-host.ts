// Owns the engine process (Node worker in the browser host, utility process in Electron): loads
// the selected model, reports its state, and when the process dies (crash, out of memory) reports
// it and starts it again with the same model, failing only the generation that was running.
import type { Engine, GenerationInput, GenerationResult, GenerationStep, RunOptions, SamplingOptions } from '../../engine/common/api.js';
import { BitLensError, type EngineStatus, type ModelInfoPayload } from '../../contract/index.js';

/**
 * Starts an engine in its own process. `onExit` must be called if that process dies on its own;
 * a generation running at that moment may then never settle, so the host fails it itself.
 */
export type EngineFactory = (modelDir: string, run: RunOptions, onExit: (reason: string) => void) => Promise<Engine>;

const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES_IN_WINDOW = 3;

interface Loaded {
  engine: Engine;
  modelId: string;
  dir: string;
  run: RunOptions;
  /** Rejects when this engine's process dies. */
  died: Promise<never>;
}

export class EngineHost {
  private current: Loaded | null = null;
  private loading: Promise<void> | null = null;
  private epoch = 0;
  private recentCrashes: number[] = [];
  private statusValue: EngineStatus = { state: 'idle', modelId: null, restarts: 0, busyConversationId: null };

  constructor(
    private readonly factory: EngineFactory,
    private readonly onStatus: (status: EngineStatus) => void,
  ) {}

  get status(): EngineStatus {
    return this.statusValue;
  }

  setBusy(conversationId: string | null): void {
    this.update({ busyConversationId: conversationId });
  }

  /** Load a model (replacing the current one); resolves when ready, rejects with the load error. */
  async load(modelId: string, dir: string, run: RunOptions): Promise<EngineStatus> {
    await this.start(modelId, dir, run, false);
    return this.statusValue;
  }

  /** Resolves once a load in progress (first start or restart) has finished. */
  async ready(): Promise<void> {
    while (this.loading) await this.loading.catch(() => undefined);
  }

  async generate(
    input: GenerationInput,
    sampling: SamplingOptions,
    onStep?: (step: GenerationStep) => void,
    signal?: AbortSignal,
  ): Promise<GenerationResult> {
    await this.ready();
    const loaded = this.current;
    if (!loaded) {
      const why = this.statusValue.error ? `: ${this.statusValue.error}` : ' (no model loaded)';
      throw new BitLensError('engine_unavailable', `the engine is not ready${why}`);
    }
    return Promise.race([loaded.engine.generate(input, sampling, onStep, signal), loaded.died]);
  }

  async close(): Promise<void> {
    this.epoch++;
    const loaded = this.current;
    this.current = null;
    await loaded?.engine.close().catch(() => undefined);
  }

  private async start(modelId: string, dir: string, run: RunOptions, restart: boolean): Promise<void> {
    const epoch = ++this.epoch;
    const previous = this.current;
    this.current = null;
    const task = (async () => {
      await previous?.engine.close().catch(() => undefined);
      this.update({ state: 'starting', modelId, error: undefined, info: undefined, device: undefined, deviceNote: undefined });
      let died!: (reason: string) => void;
      const diedPromise = new Promise<never>((_, reject) => {
        died = (reason) => reject(new BitLensError('engine_unavailable', `the engine stopped: ${reason}`));
      });
      diedPromise.catch(() => undefined);
      let engine: Engine;
      try {
        engine = await this.factory(dir, run, (reason) => {
          died(reason);
          if (this.epoch === epoch) this.crashed(reason);
        });
      } catch (error) {
        if (this.epoch === epoch) this.update({ state: 'error', error: (error as Error).message });
        throw new BitLensError('engine_unavailable', `model ${modelId} failed to load: ${(error as Error).message}`);
      }
      if (this.epoch !== epoch) {
        await engine.close().catch(() => undefined);
        return;
      }
      this.current = { engine, modelId, dir, run, died: diedPromise };
      const info = toInfoPayload(engine);
      this.update({
        state: restart ? 'restarted' : 'ready',
        info,
        device: info.device,
        deviceNote: info.deviceNote,
      });
    })();
    this.loading = task;
    try {
      await task;
    } finally {
      if (this.loading === task) this.loading = null;
    }
  }

  private crashed(reason: string): void {
    const loaded = this.current;
    this.current = null;
    const modelId = loaded?.modelId ?? this.statusValue.modelId;
    this.update({ state: 'crashed', error: reason, restarts: this.statusValue.restarts + 1, info: undefined });
    if (!loaded || !modelId) return;
    // A model that kills its process every time must not restart forever.
    const now = Date.now();
    this.recentCrashes = this.recentCrashes.filter((t) => now - t < CRASH_WINDOW_MS).concat(now);
    if (this.recentCrashes.length > MAX_CRASHES_IN_WINDOW) {
      this.update({ state: 'error', error: `the engine crashed ${this.recentCrashes.length} times in a minute (last: ${reason}); select the model again to retry` });
      return;
    }
    void this.start(modelId, loaded.dir, loaded.run, true).catch(() => undefined);
  }

  private update(patch: Partial<EngineStatus>): void {
    const next = { ...this.statusValue, ...patch };
    for (const key of Object.keys(next) as (keyof EngineStatus)[]) if (next[key] === undefined) delete next[key];
    this.statusValue = next;
    this.onStatus(next);
  }
}

function toInfoPayload(engine: Engine): ModelInfoPayload {
  const i = engine.info;
  return {
    name: i.name,
    dir: i.dir,
    config: i.config,
    run: i.run,
    device: i.device,
    ...(i.deviceNote !== undefined && { deviceNote: i.deviceNote }),
    ...(i.experimentNote !== undefined && { experimentNote: i.experimentNote }),
    contextLength: i.contextLength,
    weightBytesPacked: i.weightBytesPacked,
    weightBytesFp16: i.weightBytesFp16,
    projections: i.projections,
  };
}
