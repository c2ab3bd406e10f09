// The Vulkan step runner (device 'vulkan'): VulkanModel behind the StepRunner interface. It returns
// every logit (the LogitsNeed screen is a CPU-side saving) and, with taps on, the last token's TapFrame.
import type { RunOptions } from '../../common/api.js';
import type { ModelWeights } from '../../common/weights.js';
import type { StepOutput, StepRunner } from '../step-runner.js';
import { VulkanModel } from './vulkan-model.js';

export class VulkanStepRunner implements StepRunner {
  private model: VulkanModel | undefined;

  constructor(weights: ModelWeights, run: RunOptions) {
    this.model = new VulkanModel(weights, { scheme: run.scheme, kvBits: run.kvBits, taps: run.taps, experiment: run.experiment });
  }

  private live(): VulkanModel {
    if (!this.model) throw new Error('engine is closed');
    return this.model;
  }

  /** The GPU's name (for the device note). */
  get deviceName(): string {
    const d = this.live().device;
    return `${d.name} (${d.type})`;
  }

  /** The Vulkan device type: discrete, integrated, virtual, cpu (a software implementation) or other. */
  get deviceType(): string {
    return this.live().device.type;
  }

  get length(): number {
    return this.live().position;
  }

  reset(): void {
    this.live().reset();
  }

  step(ids: number[]): StepOutput {
    return this.live().step(ids);
  }

  async dispose(): Promise<void> {
    this.model?.dispose();
    this.model = undefined;
  }
}
