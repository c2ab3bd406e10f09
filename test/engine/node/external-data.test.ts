// ONNX external data (onnx-builder.ts toExternal, graph/model-files.ts): a tiny model forced to
// external data gives exactly the in-memory graph's logits, for a normal scheme and for the v2
// retrofit experiment (its rotated float32 weights are what pushes 2B-4T over protobuf's 2 GB), and
// the temp folder exists while the engine is open and is gone after close.
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunOptions } from '../../../engine/common/api.js';
import { createEngine } from '../../../engine/node/engine.js';
import { compileGraph, EXTERNAL_DATA_FILE } from '../../../engine/node/graph/compile.js';
import { BOS, testConfig, writeTempModel, type TempModel } from './helpers.js';

const PROMPT = [BOS, 72, 101, 108, 108, 111];
const tempFolders = () => new Set(readdirSync(os.tmpdir()).filter((n) => n.startsWith('bitlens-model-')));

describe('ONNX external data', () => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(testConfig({ scheme: 'b1.58' }), 5);
  });
  afterAll(() => model.cleanup());

  it('moves the large initializers out of the ModelProto (location, 64 KiB-aligned offset, length)', () => {
    const graph = compileGraph(model.weights, { scheme: 'v2-a4', kvBits: 16, taps: false, experiment: 'v2-retrofit-w16a4', externalData: true });
    expect(graph.external?.location).toBe(EXTERNAL_DATA_FILE);
    const proto = onnxProto.onnx.ModelProto.decode(graph.model);
    const external = proto.graph!.initializer!.filter((t) => t.dataLocation === onnxProto.onnx.TensorProto.DataLocation.EXTERNAL);
    expect(external.map((t) => t.name)).toContain('l0.o.rotated');
    for (const t of external) {
      const kv = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
      expect(kv.location).toBe(EXTERNAL_DATA_FILE);
      expect(Number(kv.offset) % 65536).toBe(0);
      expect(t.rawData?.length ?? 0).toBe(0);
      const chunk = graph.external!.chunks.find((c) => c.offset === Number(kv.offset))!;
      expect(chunk.data.byteLength).toBe(Number(kv.length));
    }
    // Not forced: a tiny model stays in one ModelProto.
    expect(compileGraph(model.weights, { scheme: 'v2-a4', kvBits: 16, taps: false }).external).toBeUndefined();
  });

  const RUNS: [string, RunOptions][] = [
    ['b1.58 / KV 8', { scheme: 'b1.58', kvBits: 8, device: 'cpu', taps: true }],
    ['v2 retrofit, v2-a4 / KV 4', { scheme: 'v2-a4', kvBits: 4, device: 'cpu', taps: true, experiment: 'v2-retrofit-w16a4' }],
  ];
  it.each(RUNS)('%s: logits and taps identical to the in-memory graph over 4 steps; temp folder removed on close', async (_label, run) => {
    const before = tempFolders();
    const inMemory = await createEngine(model.dir, run, { cpuBackend: 'ort' });
    const onDisk = await createEngine(model.dir, run, { externalData: true, cpuBackend: 'ort' });
    const created = [...tempFolders()].filter((n) => !before.has(n));
    expect(created).toHaveLength(1);
    const dir = path.join(os.tmpdir(), created[0]);
    expect(statSync(path.join(dir, 'model.onnx')).size).toBeGreaterThan(0);
    expect(statSync(path.join(dir, EXTERNAL_DATA_FILE)).size).toBeGreaterThan(statSync(path.join(dir, 'model.onnx')).size);
    try {
      let ids = PROMPT;
      for (let s = 0; s < 4; s++) {
        const a = await inMemory.forward(ids, s === 0);
        const b = await onDisk.forward(ids, s === 0);
        expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
        expect(b.taps).toEqual(a.taps);
        ids = [a.logits.indexOf(Math.max(...a.logits))];
      }
    } finally {
      await Promise.all([inMemory.close(), onDisk.close()]);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('removes the temp folder when ONNX Runtime refuses the session', async () => {
    const before = tempFolders();
    // Told to read the ONNX file as an ORT-format model, ORT fails after the folder was written.
    const opts = { externalData: true, sessionConfig: { 'session.load_model_format': 'ORT' } };
    await expect(createEngine(model.dir, { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false }, opts)).rejects.toThrow(/ONNX Runtime could not create the session/);
    expect([...tempFolders()].filter((n) => !before.has(n))).toEqual([]);
  });
});
