// The WebGPU backend on a CPU-only machine through SwiftShader (Vulkan on the CPU; slow, but the
// same WebGPU kernels): the GPU graph variant (fp32 matmuls, Add/Sub rounding, KV dequantized on
// write, chunked LM head, fused GroupQueryAttention / RotaryEmbedding / SkipSimplifiedLayerNorm)
// with the KV cache kept in gpu-buffer tensors between steps, against the float64 reference. Head
// size 16 takes the fused attention, 12 the plain ops. Runs only where Chromium's SwiftShader ICD
// and a Vulkan loader are installed.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvBits } from '../../../engine/common/api.js';
import { argmax, ReferenceModel } from '../../../engine/common/reference.js';
import type { Scheme } from '../../../engine/common/scheme.js';
import { createEngine } from '../../../engine/node/engine.js';
import { BOS, testConfig, writeTempModel, type TempModel } from './helpers.js';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some(existsSync);

describe.skipIf(!existsSync(ICD) || !LOADER)('webgpu backend (SwiftShader)', () => {
  const models: Record<number, TempModel> = {};
  beforeAll(async () => {
    process.env.VK_ICD_FILENAMES = ICD;
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    models[12] = await writeTempModel(testConfig({ hiddenSize: 48, headDim: 12, intermediateSize: 80 }), 4);
    models[16] = await writeTempModel(testConfig({ hiddenSize: 64, headDim: 16, intermediateSize: 80 }), 5);
  });
  afterAll(async () => {
    for (const m of Object.values(models)) await m.cleanup();
  });

  const cases: [Scheme, KvBits, number][] = [
    ['b1.58', 16, 16],
    ['a4.8', 8, 16],
    ['v2-a4', 4, 16],
    ['v2-a8', 3, 16],
    ['b1.58', 16, 12],
    ['v2-a4', 4, 12],
  ];
  it.each(cases)('%s, KV %i bits, head size %i: logits and taps equal the float64 reference over 6 steps', async (scheme, kvBits, headDim) => {
    const model = models[headDim];
    const gpu = await createEngine(model.dir, { scheme, kvBits, device: 'webgpu', taps: true });
    expect(gpu.info.device, gpu.info.deviceNote).toBe('webgpu');
    const ref = new ReferenceModel(model.weights, { scheme, kvBits });
    let ids = [BOS, 10, 20, 30];
    for (let s = 0; s < 6; s++) {
      const a = await gpu.forward(ids, s === 0);
      const b = ref.forward(ids);
      let d = 0;
      for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a.logits[i] - b[i]));
      // Same bound as engine-vs-reference.test.ts allows for one float32 rounding-boundary flip.
      expect(d, `step ${s}`).toBeLessThan(0.25);
      expect(argmax(a.logits)).toBe(argmax(b));
      expect(a.taps!.layers[1].down.length).toBe(80);
      ids = [argmax(b)];
    }
    await gpu.close();
  }, 120_000);
});
