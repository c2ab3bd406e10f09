// The WebGPU backend on a CPU-only machine through SwiftShader (Vulkan on the CPU; slow, exact
// enough to check the GPU path: fp32 matmuls, gpu-buffer KV cache fed back between steps, uint8 KV
// codes). Runs only where Chromium's SwiftShader ICD and a Vulkan loader are installed.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../engine/node/engine.js';
import { BOS, testConfig, writeTempModel, type TempModel } from './helpers.js';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);

describe.skipIf(!existsSync(ICD) || !LOADER)('webgpu backend (SwiftShader)', () => {
  let model: TempModel;
  beforeAll(async () => {
    process.env.VK_ICD_FILENAMES = ICD;
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    model = await writeTempModel(testConfig({ numLayers: 1 }), 4);
  });
  afterAll(() => model.cleanup());

  it('gives the CPU logits and greedy tokens with a GPU-resident quantized KV cache', async () => {
    const run = { scheme: 'v2-a8' as const, kvBits: 4 as const, taps: true };
    const gpu = await createEngine(model.dir, { ...run, device: 'webgpu' });
    expect(gpu.info.device, gpu.info.deviceNote).toBe('webgpu');
    const cpu = await createEngine(model.dir, { ...run, device: 'cpu' });
    const ids = [BOS, 10, 20, 30];
    for (let s = 0; s < 4; s++) {
      const a = await gpu.forward(ids, s === 0);
      const b = await cpu.forward(ids, s === 0);
      let d = 0;
      for (let i = 0; i < a.logits.length; i++) d = Math.max(d, Math.abs(a.logits[i] - b.logits[i]));
      expect(d).toBeLessThan(1e-3);
      expect(a.taps!.layers[0].down.length).toBe(64);
      ids.splice(0, ids.length, b.logits.indexOf(Math.max(...b.logits)));
    }
    const g = { maxTokens: 6, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
    expect((await gpu.generateFromIds([BOS, 1, 2], g, undefined, undefined, { ignoreEos: true })).tokenIds).toEqual(
      (await cpu.generateFromIds([BOS, 1, 2], g, undefined, undefined, { ignoreEos: true })).tokenIds,
    );
    await gpu.close();
    await cpu.close();
  }, 120_000);
});
