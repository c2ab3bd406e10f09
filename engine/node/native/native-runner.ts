// The native CPU step runner (NativeCpuModel on the native kernels) and what it cannot run: the
// engine picks ONNX Runtime instead (cpuBackend 'auto') or refuses (cpuBackend 'native').
import type { RunOptions } from '../../common/api.js';
import type { LogitsNeed } from '../../common/lm-head-screen.js';
import type { ModelWeights } from '../../common/weights.js';
import type { OrtOptions } from '../ort-runner.js';
import type { LmHeadStats, StepOutput, StepRunner } from '../step-runner.js';
import { NativeCpuModel, type LmHeadChoice } from './cpu-model.js';

export class NativeStepRunner implements StepRunner {
  private model: NativeCpuModel | undefined;

  /** Throws NativeUnavailableError when the addon is missing (the kernels copy the weights into their layout). */
  constructor(weights: ModelWeights, run: RunOptions, threads?: number, lmHead?: LmHeadChoice) {
    this.model = new NativeCpuModel(weights, { scheme: run.scheme, kvBits: run.kvBits, taps: run.taps, threads, lmHead });
  }

  /** The kernel path in use (avx512, avx2, neon, portable). */
  get isa(): string {
    return this.live().isa;
  }

  private live(): NativeCpuModel {
    if (!this.model) throw new Error('engine is closed');
    return this.model;
  }

  get length(): number {
    return this.live().position;
  }

  reset(): void {
    this.live().reset();
  }

  step(ids: number[], need?: LogitsNeed): StepOutput {
    return this.live().step(ids, need);
  }

  lmHeadStats(): LmHeadStats | undefined {
    return this.live().headStats;
  }

  async dispose(): Promise<void> {
    this.model = undefined; // the addon frees its buffers when the handle is collected
  }
}

/** Why the native runner cannot serve this run and these options (null when it can). */
export function nativeUnsupported(run: RunOptions, opts: OrtOptions): string | null {
  if (run.experiment) return `experiment ${run.experiment} runs on onnxruntime only`;
  const ortOnly: string[] = (['matmul', 'graphTarget', 'sessionConfig'] as const).filter((k) => opts[k] !== undefined);
  if (opts.externalData === true) ortOnly.push('externalData');
  if (ortOnly.length) return `${ortOnly.join(', ')} ${ortOnly.length > 1 ? 'are onnxruntime options' : 'is an onnxruntime option'}`;
  return null;
}
