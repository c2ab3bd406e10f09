// Importers end to end: a random ternary model is written in each foreign on-disk layout, imported,
// and the imported folder must hold the same ternary weights, alphas, embeddings, norms, config and
// tokenizer, and give the same logits (float64 reference; the ORT engine for two layouts).
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../engine/common/config.js';
import { ModelFormatError } from '../../../engine/common/errors.js';
import { f16BytesToF32, f32BytesToF32, f32ToF16Bytes } from '../../../engine/common/f16.js';
import { parseSafetensors, writeSafetensors, type TensorView } from '../../../engine/common/safetensors.js';
import { bf16BytesToF32, f32ToBf16Bytes } from '../../../engine/common/formats/ternary-codecs.js';
import { ReferenceModel } from '../../../engine/common/reference.js';
import { ternarize, unpackTernary } from '../../../engine/common/ternary.js';
import { PROJECTIONS, type ModelWeights } from '../../../engine/common/weights.js';
import { createEngine } from '../../../engine/node/engine.js';
import { exportGguf, planBitnetGguf, type GgufExportOptions } from '../../../engine/node/import/export-gguf.js';
import { gguf, writeGguf } from '../../../engine/common/formats/gguf.js';
import { latentWeights, writeHfCheckpoint, type HfLayout } from '../../../engine/node/import/export-hf.js';
import { importModel, resolveModel } from '../../../engine/node/import/index.js';
import { loadModelDir, type LoadedModel } from '../../../engine/node/model-dir.js';
import { blockConfig, BOS, EOT, exactWeights, smallConfig, workspace, writeOriginal, type Workspace } from './fixtures.js';

let ws: Workspace;
beforeAll(async () => {
  ws = await workspace();
});
afterAll(() => ws.cleanup());

const PROMPT = [BOS, 104, 101, 108, 108, 111, 32, 119];

function expectSameWeights(got: ModelWeights, want: ModelWeights): void {
  expect(got.embed).toEqual(want.embed);
  expect(got.lmHead).toEqual(want.lmHead);
  expect(got.norm).toEqual(want.norm);
  got.layers.forEach((l, i) => {
    const w = want.layers[i];
    for (const k of ['inputNorm', 'attnSubNorm', 'postAttnNorm', 'ffnSubNorm'] as const) expect(l[k], `layer ${i} ${k}`).toEqual(w[k]);
    for (const p of PROJECTIONS) {
      expect(Buffer.from(l[p].packed).equals(Buffer.from(w[p].packed)), `layer ${i} ${p} ternary values`).toBe(true);
      expect(l[p].alpha, `layer ${i} ${p} alpha`).toBe(w[p].alpha);
    }
  });
}

function expectSameConfig(got: ModelConfig, want: ModelConfig): void {
  const strip = ({ name: _n, description: _d, ...rest }: ModelConfig) => rest;
  expect(strip(got)).toEqual(strip(want));
}

function expectSameLogits(a: ModelWeights, b: ModelWeights): void {
  const ra = new ReferenceModel(a, { scheme: 'b1.58', kvBits: 16 });
  const rb = new ReferenceModel(b, { scheme: 'b1.58', kvBits: 16 });
  expect(ra.forward(PROMPT)).toEqual(rb.forward(PROMPT));
  expect(ra.forward([108])).toEqual(rb.forward([108]));
}

/** What importing latent weights must give: the values back and alpha = mean|latent as stored|. */
function latentExpectation(orig: ModelWeights, layout: HfLayout): ModelWeights {
  const round = layout === 'hf-bf16' ? (x: Float32Array) => bf16BytesToF32(f32ToBf16Bytes(x)) : (x: Float32Array) => x;
  return {
    ...orig,
    layers: orig.layers.map((l, i) => {
      const out = { ...l };
      for (const p of PROJECTIONS) {
        const values = unpackTernary(l[p].packed, l[p].rows, l[p].cols);
        const name = `model.layers.${i}.${['gate', 'up', 'down'].includes(p) ? 'mlp' : 'self_attn'}.${p}_proj.weight`;
        const t = ternarize(round(latentWeights(values, l[p].alpha, name)));
        expect(t.values, `latent fixture of ${name} ternarizes back`).toEqual(values);
        out[p] = { ...l[p], alpha: Math.fround(t.alpha) };
      }
      return out;
    }),
  };
}

describe.each([
  ['hf-packed', smallConfig()],
  ['hf-bf16', smallConfig()],
  ['hf-fp32-llama', smallConfig({ activation: 'swiglu', tieWordEmbeddings: false, ropeTheta: 10000 })],
] as const)('Hugging Face layout %s', (layout, config) => {
  let orig: LoadedModel;
  let imported: LoadedModel;
  let hfDir: string;
  beforeAll(async () => {
    const origDir = ws.at(`${layout}-orig`);
    hfDir = ws.at(`${layout}-hf`);
    await writeOriginal(origDir, exactWeights(config, 11));
    orig = await loadModelDir(origDir);
    await writeHfCheckpoint(origDir, hfDir, layout);
    await importModel(hfDir, ws.at(`${layout}-imported`));
    imported = await loadModelDir(ws.at(`${layout}-imported`));
  });

  it('writes the real on-disk layout', async () => {
    const cfg = JSON.parse(await readFile(path.join(hfDir, 'config.json'), 'utf8'));
    const st = await readFile(path.join(hfDir, 'model.safetensors'));
    const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString());
    const q = header['model.layers.0.self_attn.q_proj.weight'];
    if (layout === 'hf-packed') {
      expect(cfg.quantization_config.linear_class).toBe('autobitlinear');
      expect(q).toMatchObject({ dtype: 'U8', shape: [config.hiddenSize / 4, config.hiddenSize] });
      expect(header['model.layers.0.self_attn.q_proj.weight_scale']).toMatchObject({ dtype: 'BF16', shape: [1] });
    } else {
      expect(q).toMatchObject({ dtype: layout === 'hf-bf16' ? 'BF16' : 'F32', shape: [config.hiddenSize, config.hiddenSize] });
      expect(header['model.layers.0.self_attn.q_proj.weight_scale']).toBeUndefined();
    }
    if (layout === 'hf-fp32-llama') {
      expect(header['model.layers.0.self_attn.inner_attn_ln.weight']).toBeDefined();
      expect(header['model.layers.0.mlp.ffn_layernorm.weight']).toBeDefined();
      expect(cfg.hidden_act).toBe('silu');
    } else expect(cfg.hidden_act).toBe('relu2');
  });

  it('imports the same weights, alphas, config and tokenizer', () => {
    expectSameConfig(imported.config, orig.config);
    expect(imported.config.eosTokenIds).toContain(EOT);
    const want = layout === 'hf-packed' ? orig.weights : latentExpectation(orig.weights, layout);
    expectSameWeights(imported.weights, want);
    expect(imported.tokenizerJson).toEqual(orig.tokenizerJson);
    expect(imported.tokenizerConfig.chat_template).toBe(orig.tokenizerConfig.chat_template);
    expectSameLogits(imported.weights, want);
  });
});

describe.each([
  ['TQ2_0', { weightType: 'TQ2_0' }],
  ['TQ1_0', { weightType: 'TQ1_0' }],
  ['I2_S (bitnet.cpp arch bitnet-b1.58)', { weightType: 'I2_S', arch: 'bitnet-b1.58' }],
  ['F16 (dequantized ternary)', { weightType: 'F16', embedType: 'F32' }],
  ['TQ2_0 with separate f32 scale tensors', { weightType: 'TQ2_0', separateScale: true, embedType: 'BF16' }],
] as const)('GGUF %s', (label, opts: GgufExportOptions) => {
  let orig: LoadedModel;
  let imported: LoadedModel;
  const slug = label.replace(/\W+/g, '_');
  beforeAll(async () => {
    const config = blockConfig({ activation: 'relu2glu', tieWordEmbeddings: label.startsWith('F16') ? false : true });
    const origDir = ws.at(`gguf-${slug}-orig`);
    await writeOriginal(origDir, exactWeights(config, 23));
    orig = await loadModelDir(origDir);
    const file = ws.at(`gguf-${slug}.gguf`);
    await exportGguf(orig, file, opts);
    // arch "bitnet" files do not always record the activation; this one does (hidden_activation).
    await importModel(file, ws.at(`gguf-${slug}-imported`));
    imported = await loadModelDir(ws.at(`gguf-${slug}-imported`));
  });

  it('imports the same weights, alphas and config', () => {
    expectSameConfig(imported.config, orig.config);
    expectSameWeights(imported.weights, orig.weights);
    expectSameLogits(imported.weights, orig.weights);
  });

  it('rebuilds a working tokenizer and the chat template from the metadata', () => {
    const text = 'hello world, hello!\nUser: <|eot_id|>';
    const a = new Tokenizer(orig.tokenizerJson as object, orig.tokenizerConfig);
    const b = new Tokenizer(imported.tokenizerJson as object, imported.tokenizerConfig);
    const ids = b.encode(text, { add_special_tokens: false }).ids;
    expect(ids).toEqual(a.encode(text, { add_special_tokens: false }).ids);
    expect(ids).toContain(261); // the "hell" merge
    expect(ids).toContain(EOT);
    expect(b.decode(ids, { skip_special_tokens: false })).toBe(text);
    expect(imported.tokenizerConfig.chat_template).toBe(orig.tokenizerConfig.chat_template);
    expect(imported.config.eosTokenIds).toEqual([257, EOT]);
  });
});

describe('running imported models in the engine', () => {
  it.each(['hf-packed', 'gguf'] as const)('%s: ORT logits equal the original model\'s, chat template and EOS from the import', async (kind) => {
    const config = kind === 'gguf' ? blockConfig() : smallConfig();
    const origDir = ws.at(`engine-${kind}-orig`);
    await writeOriginal(origDir, exactWeights(config, 5));
    const src = ws.at(`engine-${kind}-src`);
    if (kind === 'gguf') await exportGguf(await loadModelDir(origDir), src, { weightType: 'TQ2_0' });
    else await writeHfCheckpoint(origDir, src, 'hf-packed');
    const { dir } = await resolveModel(src, { cacheDir: ws.at('engine-cache') });
    const run = { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false } as const;
    const [a, b] = [await createEngine(origDir, run, { threads: 1 }), await createEngine(dir, run, { threads: 1 })];
    try {
      const la = await a.forward(PROMPT, true);
      const lb = await b.forward(PROMPT, true);
      expect(lb.logits).toEqual(la.logits);
      expect(b.info.config).toMatchObject({ eos_token_id: [257, EOT] });
      // Chat uses the imported template; generation stops at EOS / <|eot_id|>.
      const res = await b.generate({ messages: [{ role: 'user', content: 'hello' }] }, { maxTokens: 4, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1, stop: [] });
      expect(res.stats.promptTokens).toBeGreaterThan(5);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('sharded Hugging Face checkpoints', () => {
  it('reads model.safetensors.index.json shards (F16 latent weights) like one file', async () => {
    const origDir = ws.at('shard-orig');
    await writeOriginal(origDir, exactWeights(smallConfig(), 8));
    const single = ws.at('shard-single');
    await writeHfCheckpoint(origDir, single, 'hf-fp32-llama');
    // Re-shard into two files with F16 latent weights, as many 1bitLLM uploads are.
    const st = parseSafetensors(new Uint8Array(await readFile(path.join(single, 'model.safetensors'))), 'single');
    const toF16 = (t: TensorView) => (t.dtype === 'F32' ? { ...t, dtype: 'F16' as const, data: f32ToF16Bytes(f32BytesToF32(t.data)) } : t);
    const tensors = [...st.values()].map(toF16);
    const half = Math.ceil(tensors.length / 2);
    const shards = [tensors.slice(0, half), tensors.slice(half)];
    const sharded = ws.at('shard-two');
    await mkdir(sharded);
    const weightMap: Record<string, string> = {};
    for (const [i, part] of shards.entries()) {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(path.join(sharded, name), writeSafetensors(part));
      for (const t of part) weightMap[t.name] = name;
    }
    await writeFile(path.join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) await writeFile(path.join(sharded, f), await readFile(path.join(single, f)));
    await importModel(sharded, ws.at('shard-imported'));
    const got = await loadModelDir(ws.at('shard-imported'));
    // Expected: the F16-rounded latent weights, ternarized.
    const want = await loadModelDir(origDir);
    got.weights.layers.forEach((l, i) => {
      for (const p of PROJECTIONS) {
        const name = `model.layers.${i}.${['gate', 'up', 'down'].includes(p) ? 'mlp' : 'self_attn'}.${p}_proj.weight`;
        const t = ternarize(f16BytesToF32(toF16(st.get(name)!).data));
        expect(unpackTernary(l[p].packed, l[p].rows, l[p].cols)).toEqual(unpackTernary(want.weights.layers[i][p].packed, l[p].rows, l[p].cols));
        expect(l[p].alpha).toBe(Math.fround(t.alpha));
      }
    });
    expect(got.weights.embed).toEqual(want.weights.embed);
  });
});

describe('cache and progress', () => {
  it('imports once, then reuses the cached folder; progress ends at the total', async () => {
    const origDir = ws.at('cache-orig');
    await writeOriginal(origDir, exactWeights(smallConfig(), 3));
    const src = ws.at('cache-src');
    await writeHfCheckpoint(origDir, src, 'hf-packed');
    const events: { done: number; total: number }[] = [];
    const cacheDir = ws.at('cache');
    const first = await resolveModel(src, { cacheDir, onProgress: (p) => events.push(p) });
    expect(first.cached).toBe(false);
    expect(first.description).toMatch(/packed ternary/);
    expect(events.length).toBeGreaterThan(10);
    expect(events.every((e, i) => i === 0 || e.done >= events[i - 1].done)).toBe(true);
    expect(events.at(-1)!.done).toBe(events.at(-1)!.total);
    const second = await resolveModel(src, { cacheDir });
    expect(second).toMatchObject({ dir: first.dir, cached: true });
    // A changed source (new mtime/size) is imported again into a new folder.
    await writeFile(path.join(src, 'generation_config.json'), '{"eos_token_id": [257, 258]}\n');
    const third = await resolveModel(src, { cacheDir });
    expect(third.cached).toBe(false);
    expect(third.dir).not.toBe(first.dir);
    // A temporary folder left by a killed import is removed once it is an hour old.
    const stale = path.join(path.dirname(third.dir), `.${path.basename(third.dir)}.tmp-killed`);
    const fresh = path.join(path.dirname(third.dir), `.${path.basename(third.dir)}.tmp-running`);
    await mkdir(stale);
    await mkdir(fresh);
    await utimes(stale, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    await resolveModel(src, { cacheDir, force: true });
    expect((await readdir(cacheDir)).filter((f) => f.includes('.tmp-')).sort()).toEqual([path.basename(fresh)]);
    // A BitLens folder is used as it is.
    expect(await resolveModel(origDir, { cacheDir })).toMatchObject({ dir: origDir, kind: 'bitlens', cached: true });
  });
});

describe('malformed checkpoints', () => {
  async function expectRefused(src: string, re: RegExp) {
    const out = ws.at(`refused-${path.basename(src)}`);
    const err = await importModel(src, out).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(re);
    // Nothing half-written: no output folder and no temporary folder next to it.
    expect((await readdir(ws.root)).filter((f) => f.includes(`refused-${path.basename(src)}`))).toEqual([]);
  }

  it('HF: shape that does not match config.json names the file and tensor', async () => {
    const origDir = ws.at('bad-orig');
    await writeOriginal(origDir, exactWeights(smallConfig(), 2));
    const src = ws.at('bad-shape');
    await writeHfCheckpoint(origDir, src, 'hf-packed');
    const cfgFile = path.join(src, 'config.json');
    const cfg = JSON.parse(await readFile(cfgFile, 'utf8'));
    await writeFile(cfgFile, JSON.stringify({ ...cfg, intermediate_size: 128 }));
    await expectRefused(src, /model\.safetensors: tensor 'model\.layers\.0\.mlp\.ffn_sub_norm\.weight': shape \[64\] does not match the config, expected \[128\]/);
  });

  it('HF: invalid ternary code 3 and wrong hidden_act are refused', async () => {
    const origDir = ws.at('bad-orig2');
    await writeOriginal(origDir, exactWeights(smallConfig(), 2));
    const src = ws.at('bad-code');
    await writeHfCheckpoint(origDir, src, 'hf-packed');
    const st = await readFile(path.join(src, 'model.safetensors'));
    const hl = Number(st.readBigUInt64LE(0));
    const header = JSON.parse(st.subarray(8, 8 + hl).toString());
    st[8 + hl + header['model.layers.1.self_attn.k_proj.weight'].data_offsets[0] + 3] = 0xff;
    await writeFile(path.join(src, 'model.safetensors'), st);
    await expectRefused(src, /tensor 'model\.layers\.1\.self_attn\.k_proj\.weight': invalid code 3 in packed byte 3/);
    const act = ws.at('bad-act');
    await writeHfCheckpoint(origDir, act, 'hf-packed');
    const cfg = JSON.parse(await readFile(path.join(act, 'config.json'), 'utf8'));
    await writeFile(path.join(act, 'config.json'), JSON.stringify({ ...cfg, hidden_act: 'gelu' }));
    await expectRefused(act, /config\.json: 'hidden_act': "gelu" is not supported/);
  });

  it('GGUF: truncated data and a tensor of the wrong shape are refused', async () => {
    const origDir = ws.at('bad-gguf-orig');
    await writeOriginal(origDir, exactWeights(blockConfig(), 4));
    const file = ws.at('bad-trunc.gguf');
    await exportGguf(await loadModelDir(origDir), file, { weightType: 'TQ2_0' });
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 1000));
    await expectRefused(file, /bad-trunc\.gguf: tensor '[\w.]+': data .* goes beyond the end of the file/);
    const wrong = ws.at('bad-layers.gguf');
    const m = await loadModelDir(origDir);
    await exportGguf({ ...m, config: { ...m.config, numLayers: 1 }, weights: { ...m.weights, config: { ...m.config, numLayers: 1 } } }, wrong, { weightType: 'TQ2_0' });
    await expectRefused(wrong, /unknown tensor .*blk\.1\.|tensor 'blk\.1\./);
  });

  it('GGUF: wrong magic, a metadata value of the wrong type and a non-BitNet architecture are refused', async () => {
    const m = await loadModelDir(ws.at('bad-gguf-orig'));
    const { metadata, tensors } = planBitnetGguf(m, { weightType: 'TQ2_0' });
    const withData = tensors.map((t) => ({ ...t, data: t.data() }));
    const write = async (name: string, meta: typeof metadata) => {
      await writeFile(ws.at(name), writeGguf(meta, withData));
      return ws.at(name);
    };
    const badType = metadata.map(([k, v]) => [k, k === 'bitnet.block_count' ? gguf.str('2') : v] as [string, typeof v]);
    await expectRefused(await write('bad-meta.gguf', badType), /bad-meta\.gguf: metadata 'bitnet\.block_count': expected an integer, got string/);
    const llama = metadata.map(([k, v]) => [k, k === 'general.architecture' ? gguf.str('llama') : v] as [string, typeof v]);
    await expectRefused(await write('bad-arch.gguf', llama), /metadata 'general\.architecture' is "llama"; BitLens imports BitNet models/);
    const magic = await readFile(await write('bad-magic.gguf', metadata));
    magic.write('GGUX', 0);
    await writeFile(ws.at('bad-magic.gguf'), magic);
    await expectRefused(ws.at('bad-magic.gguf'), /bad-magic\.gguf: not a model: expected a BitLens or Hugging Face model folder, or a GGUF file/);
  });
});
