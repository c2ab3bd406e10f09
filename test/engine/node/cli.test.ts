// The bitlens CLI (cli/main.ts) in-process: generate and bench on a tiny model, and option errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../../cli-run.js';
import { testConfig, writeTempModel, type TempModel } from './helpers.js';

describe('bitlens CLI', () => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(testConfig({ eosTokenIds: [259] }), 2);
  });
  afterAll(() => model.cleanup());

  it('generate streams text and prints stats', async () => {
    const r = await run(['generate', '--model', model.dir, '--prompt', 'Hello', '--max-tokens', '5', '--device', 'cpu', '--kv-bits', '8', '--scheme', 'a4.8', '--seed', '3', '--temperature', '0.7', '--top-p', '0.9', '--top-k', '20']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/scheme a4.8, KV 8 bits, device cpu/);
    expect(r.err).toMatch(/finish: length; prompt 6 tokens, generated 5, TTFT [\d.]+ ms/);
  });

  it('--cpu-backend picks the CPU runner and the output says which one ran', async () => {
    for (const [backend, note] of [['ort', /^cpu: onnxruntime$/], ['native', /^cpu: native kernels \(\w+\)$/]] as const) {
      const r = await run(['bench', '--model', model.dir, '--device', 'cpu', '--cpu-backend', backend, '--prompt-tokens', '8', '--gen-tokens', '4', '--json']);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).deviceNote).toMatch(note);
    }
    const g = await run(['generate', '--model', model.dir, '--prompt', 'Hi', '--max-tokens', '3', '--device', 'cpu', '--cpu-backend', 'native']);
    expect(g.code, g.err).toBe(0);
    expect(g.err).toMatch(/device cpu \(cpu: native kernels \(\w+\)\)/);
  });

  it('bench prints prefill and decode speed and peak memory', async () => {
    const r = await run(['bench', '--model', model.dir, '--device', 'cpu', '--prompt-tokens', '16', '--gen-tokens', '8', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ device: 'cpu', promptTokens: 16, generatedTokens: 8, scheme: 'b1.58' });
    expect(j.prefillTokensPerSec).toBeGreaterThan(0);
    expect(j.decodeTokensPerSec).toBeGreaterThan(0);
    expect(j.peakRssBytes).toBeGreaterThan(0);
  });

  it.each([
    [['generate', '--model', 'x', '--prompt', 'a', '--kv-bits', '5'], /--kv-bits "5" is not one of 16, 8, 4, 3/],
    [['generate', '--model', 'x', '--prompt', 'a', '--scheme', 'b2'], /--scheme "b2" is not one of fp, b1.58, a4.8, v2-a8, v2-a4/],
    [['generate', '--model', 'x', '--prompt', 'a', '--device', 'tpu'], /--device "tpu" is not one of auto, cpu, webgpu/],
    [['generate', '--model', 'x', '--prompt', 'a', '--max-tokens', '0'], /--max-tokens "0" must be an integer >= 1/],
    [['generate', '--model', 'x', '--prompt', 'a', '--top-p', '2'], /--top-p "2" must be a number > 0 and <= 1/],
    [['generate', '--model', 'x', '--prompt', 'a', '--wat'], /Unknown option '--wat'/],
    [['generate', '--model', 'x'], /missing --prompt/],
    [['bench', '--gen-tokens', 'many'], /--gen-tokens "many" must be an integer/],
    [['bench', '--cpu-backend', 'gpu'], /--cpu-backend "gpu" is not one of auto, ort, native/],
    [['generate', '--model', 'x', '--prompt', 'a', '--cpu-backend', 'onnx'], /--cpu-backend "onnx" is not one of auto, ort, native/],
  ])('%j is a usage error', async (argv, msg) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err).toMatch(/usage: bitlens/);
  });

  it('unknown command and a missing model folder', async () => {
    expect((await run(['frobnicate'])).err).toMatch(/unknown command "frobnicate"/);
    const r = await run(['generate', '--model', `${model.dir}-nope`, '--prompt', 'a', '--device', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/model folder does not exist/);
  });
});
