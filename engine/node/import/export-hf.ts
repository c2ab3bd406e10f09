// Writes a BitLens model folder in the exact on-disk layouts of the Hugging Face checkpoints the
// importer reads (docs/import.md), tensor by tensor (bounded memory), atomically:
//   'hf-packed'      microsoft/bitnet-b1.58-2B-4T: U8 [out/4, in] + BF16 weight_scale, BF16 rest
//   'hf-bf16'        the -bf16 master variant: BF16 latent weights (no weight_scale)
//   'hf-fp32-llama'  1bitLLM style: LLaMA names (inner_attn_ln, ffn_layernorm), F32 latent weights
// Latent weights are made from the ternary ones (latentWeights) so that absmean ternarization gives
// the same ternary values back; their alpha is then mean|W| of the latent tensor.
// For tests, benchmarks and interoperability checks; used by scripts/make-checkpoint.ts.
import { copyFile, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseModelConfig, type ModelConfig } from '../../common/config.js';
import { f16BytesToF32, f32BytesToF32 } from '../../common/f16.js';
import { encodeHfPacked, f32ToBf16Bytes } from '../../common/formats/ternary-codecs.js';
import { Rng } from '../../common/random-model.js';
import { safetensorsHeader, type Dtype, type TensorSpec } from '../../common/safetensors.js';
import { unpackTernary } from '../../common/ternary.js';
import { modelTensorSpecs, projectionShape, type Projection } from '../../common/weights.js';
import { MODEL_FILES, writeModelDirAtomic } from '../model-dir.js';
import { FileReader, readSafetensorsIndex } from './files.js';

export const HF_LAYOUTS = ['hf-packed', 'hf-bf16', 'hf-fp32-llama'] as const;
export type HfLayout = (typeof HF_LAYOUTS)[number];

/** FNV-1a of a tensor name: each latent tensor gets its own noise stream. */
function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Deterministic latent weights for ternary `values`: alpha * (w + noise), noise uniform in
 * [-0.25, 0.25]. With about a third zeros, ternarize() of the result gives `values` back.
 */
export function latentWeights(values: Int8Array, alpha: number, name: string): Float32Array {
  const rng = new Rng(0x5eed, nameSeed(name));
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = alpha * (values[i] + (rng.next() - 0.5) * 0.5);
  return out;
}

function hfName(name: string, layout: HfLayout): string {
  if (layout !== 'hf-fp32-llama') return name;
  return name.replace('.self_attn.attn_sub_norm.', '.self_attn.inner_attn_ln.').replace('.mlp.ffn_sub_norm.', '.mlp.ffn_layernorm.');
}

function hfConfig(c: ModelConfig, layout: HfLayout): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    architectures: [layout === 'hf-fp32-llama' ? 'BitnetForCausalLM' : 'BitNetForCausalLM'],
    model_type: layout === 'hf-fp32-llama' ? 'llama' : 'bitnet',
    hidden_act: c.activation === 'relu2glu' ? 'relu2' : 'silu',
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    num_key_value_heads: c.numKvHeads,
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieWordEmbeddings,
    vocab_size: c.vocabSize,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds[0],
    torch_dtype: layout === 'hf-fp32-llama' ? 'float32' : 'bfloat16',
  };
  if (layout === 'hf-packed') cfg.quantization_config = { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'offline' };
  return cfg;
}

/** Reads one BitLens tensor's bytes from a model folder's safetensors file. */
type TensorReader = (spec: TensorSpec) => Promise<Uint8Array>;

function floatsOf(spec: TensorSpec, bytes: Uint8Array): Float32Array {
  return spec.dtype === 'F16' ? f16BytesToF32(bytes) : f32BytesToF32(bytes);
}

/**
 * Writes the BitLens model folder `from` as a Hugging Face checkpoint folder `out` in `layout`.
 * Returns the size of the weights file.
 */
export async function writeHfCheckpoint(from: string, out: string, layout: HfLayout): Promise<number> {
  const config = await readConfig(from);
  const reader = await FileReader.open(path.join(from, MODEL_FILES.weights));
  try {
    const index = await readSafetensorsIndex(reader);
    const read: TensorReader = async (spec) => {
      const e = index.get(spec.name);
      if (!e) throw new Error(`${from}: missing tensor ${spec.name}`);
      return reader.read(e.offset, e.byteLength, spec.name);
    };
    const latent = layout !== 'hf-packed';
    const floatDtype: Dtype = layout === 'hf-fp32-llama' ? 'F32' : 'BF16';
    const specs = modelTensorSpecs(config);
    const outSpecs: TensorSpec[] = [];
    for (const s of specs) {
      if (s.name.endsWith('.weight_scale')) {
        if (!latent) outSpecs.push({ name: s.name, dtype: 'BF16', shape: [1] });
        continue;
      }
      const p = /(q|k|v|o|gate|up|down)_proj\.weight$/.exec(s.name);
      if (p) {
        const [rows, cols] = projectionShape(config, p[1] as Projection);
        outSpecs.push(latent ? { name: s.name, dtype: floatDtype, shape: [rows, cols] } : { name: s.name, dtype: 'U8', shape: [rows / 4, cols] });
      } else {
        outSpecs.push({ name: hfName(s.name, layout), dtype: floatDtype, shape: s.shape });
      }
    }
    const encodeFloats = (x: Float32Array) => (floatDtype === 'F32' ? new Uint8Array(Float32Array.from(x).buffer) : f32ToBf16Bytes(x));
    let size = 0;
    await writeModelDirAtomic(out, async (tmp) => {
      await writeFile(path.join(tmp, 'config.json'), `${JSON.stringify(hfConfig(config, layout), null, 2)}\n`);
      if (config.eosTokenIds.length > 1) {
        await writeFile(path.join(tmp, 'generation_config.json'), `${JSON.stringify({ bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenIds }, null, 2)}\n`);
      }
      for (const f of [MODEL_FILES.tokenizer, MODEL_FILES.tokenizerConfig]) await copyFile(path.join(from, f), path.join(tmp, f));
      const file = path.join(tmp, 'model.safetensors');
      const fh = await open(file, 'w');
      try {
        await fh.write(safetensorsHeader(outSpecs, { format: 'pt' }));
        for (const s of specs) {
          if (s.name.endsWith('.weight_scale')) {
            if (!latent) await fh.write(f32ToBf16Bytes(f32BytesToF32(await read(s))));
            continue;
          }
          const p = /(q|k|v|o|gate|up|down)_proj\.weight$/.exec(s.name);
          if (p) {
            const [rows, cols] = projectionShape(config, p[1] as Projection);
            const values = unpackTernary(await read(s), rows, cols);
            if (!latent) {
              await fh.write(encodeHfPacked(values, rows, cols));
            } else {
              const scale = specs.find((x) => x.name === s.name.replace(/\.weight$/, '.weight_scale'))!;
              const alpha = f32BytesToF32(await read(scale))[0];
              await fh.write(encodeFloats(latentWeights(values, alpha, s.name)));
            }
            continue;
          }
          if (s.dtype === 'F16') {
            // Embeddings: convert in chunks of rows.
            const e = index.get(s.name)!;
            const rowBytes = s.shape[1] * 2;
            const rows = Math.max(1, Math.floor((1 << 23) / rowBytes));
            for (let r = 0; r < s.shape[0]; r += rows) {
              const n = Math.min(rows, s.shape[0] - r);
              await fh.write(encodeFloats(f16BytesToF32(await reader.read(e.offset + r * rowBytes, n * rowBytes, s.name))));
            }
            continue;
          }
          await fh.write(encodeFloats(floatsOf(s, await read(s))));
        }
      } finally {
        await fh.close();
      }
      size = (await stat(file)).size;
    });
    return size;
  } finally {
    await reader.close();
  }
}

async function readConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, MODEL_FILES.config);
  return parseModelConfig(JSON.parse(await readFile(file, 'utf8')), file);
}
