// Time series of StepStats for the memory / throughput graphs, bounded so charts stay cheap.
import type { StepStats } from '../../../engine/common/api.js';

export interface StatsPoint {
  /** Seconds since the first sample. */
  t: number;
  /** Tokens in context (prompt + generated). */
  context: number;
  /** Tokens of the run's prompt (its prefill). */
  promptTokens: number;
  rssMiB: number;
  kvMiB: number;
  kvFp16MiB: number;
  tokensPerSec: number;
  /** Which generation of the session the sample belongs to (KV graphs show the latest one). */
  run: number;
}

const MiB = 1024 * 1024;

export function toPoint(stats: StepStats, atMs: number, t0Ms: number, run = 0): StatsPoint {
  return {
    t: (atMs - t0Ms) / 1000,
    context: stats.promptTokens + stats.generatedTokens,
    promptTokens: stats.promptTokens,
    rssMiB: stats.rssBytes / MiB,
    kvMiB: stats.kvCacheBytes / MiB,
    kvFp16MiB: stats.kvCacheBytesFp16 / MiB,
    tokensPerSec: stats.phase === 'prefill' ? stats.prefillTokensPerSec : stats.decodeTokensPerSec,
    run,
  };
}

/** At most `max` points, evenly strided, always keeping the last one (the current value). */
export function downsample<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return points.slice();
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]);
  return out;
}
