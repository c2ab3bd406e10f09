// The trained default models on the Vulkan backend: greedy text equal to the native CPU backend's.
// Random test models (vulkan.test.ts) have near-ties where float32 vs float64 quantizer inputs may
// legitimately pick another token; the trained models have margins, so any difference here is a bug.
// Runs on whatever Vulkan device the machine has (CI: SwiftShader); in CI a missing device fails.
import path from 'node:path';
import { expect } from 'vitest';
import type { Scheme } from '../../engine/common/scheme.js';
import { createEngine } from '../../engine/node/engine.js';
import { gpuTest } from './vulkan-device.js';

const models = path.resolve(import.meta.dirname, '../../assets/models');
const GREEDY = { maxTokens: 24, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };

async function greedy(dir: string, scheme: Scheme, device: 'vulkan' | 'cpu'): Promise<{ ids: number[]; device: string; note?: string }> {
  const e = await createEngine(path.join(models, dir), { scheme, kvBits: 16, device, taps: false }, { cpuBackend: 'native' });
  try {
    const r = await e.generate({ prompt: 'In the beginning God' }, GREEDY);
    return { ids: r.tokenIds, device: e.info.device, note: e.info.deviceNote };
  } finally {
    await e.close();
  }
}

gpuTest.each([
  ['bitlens-v2', 'v2-a4'],
  ['bitlens-v2', 'v2-a8'],
  ['bitlens-b158', 'b1.58'],
] as [string, Scheme][])('%s %s: greedy tokens on vulkan equal the native CPU backend', async (dir, scheme) => {
  const vk = await greedy(dir, scheme, 'vulkan');
  expect(vk.device, vk.note).toBe('vulkan');
  const cpu = await greedy(dir, scheme, 'cpu');
  expect(vk.ids.length).toBeGreaterThan(0);
  expect(vk.ids).toEqual(cpu.ids);
});
