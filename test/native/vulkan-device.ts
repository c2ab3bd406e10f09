// The Vulkan device the tests run on: whatever the machine has, else Chromium's SwiftShader (a CPU
// implementation of Vulkan) through VK_ICD_FILENAMES. `gpuTest` skips where there is no device,
// except in CI (CI=true), where a missing device fails the tests instead.
import { existsSync } from 'node:fs';
import { it } from 'vitest';
import { randomModelWeights } from '../../engine/common/random-model.js';
import { VulkanModel } from '../../engine/node/vulkan/vulkan-model.js';
import { testConfig } from '../engine/node/helpers.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

/** null when a Vulkan device runs a tiny model here, else why not. */
function vulkanProblem(): string | null {
  try {
    new VulkanModel(randomModelWeights(testConfig(), 1), { scheme: 'b1.58', kvBits: 16 }).dispose();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export const vulkanMissing = vulkanProblem();
export const gpuTest = vulkanMissing === null || process.env.CI === 'true' ? it : it.skip;
