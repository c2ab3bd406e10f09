// Seeded random-weight models in the real format, for tests and benchmarks. The values are chosen so
// activations stay O(1) through the layers and logits are spread out (std ~2), so greedy decoding
// is not decided by rounding noise.
import { configToJson, parseModelConfig, type ModelConfig } from './config.js';
import { f32ToBytes, floatToHalf } from './f16.js';
import { tensorByteLength, type TensorSpec, type TensorView } from './safetensors.js';
import { modelTensorSpecs, weightsFromSafetensors, type ModelWeights } from './weights.js';

/** sfc32: small, fast, seedable; plenty for test weights. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number, stream = 0) {
    this.a = seed >>> 0;
    this.b = stream >>> 0;
    this.c = 0x9e3779b9;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
}

/** FNV-1a, to give every tensor its own random stream (independent of file order and chunking). */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// Each byte packs four codes, uniform over {0, 1, 2} (w = -1, 0, +1: a third zeros).
const PACKED_BYTES = Uint8Array.from({ length: 81 }, (_, i) => (i % 3) | ((Math.floor(i / 3) % 3) << 2) | ((Math.floor(i / 9) % 3) << 4) | ((Math.floor(i / 27) % 3) << 6));

const CHUNK_BYTES = 1 << 22;

/** The bytes of one tensor of a random model, in chunks of at most ~4 MB (bounded memory). */
export function* randomTensorChunks(config: ModelConfig, spec: TensorSpec, seed: number): Generator<Uint8Array> {
  const rng = new Rng(seed, hashName(spec.name));
  const total = tensorByteLength(spec);
  if (spec.name.endsWith('.weight_scale')) {
    // ~1/sqrt(2/3 * in): a ternary row with a third zeros then maps unit-RMS inputs to unit-RMS outputs.
    const cols = inputWidth(config, spec.name);
    yield f32ToBytes(Float32Array.of((0.75 + 0.5 * rng.next()) / Math.sqrt((2 / 3) * cols)));
    return;
  }
  for (let done = 0; done < total; ) {
    const n = Math.min(CHUNK_BYTES, total - done);
    const out = new Uint8Array(n);
    if (spec.dtype === 'U8') {
      for (let i = 0; i < n; i++) out[i] = PACKED_BYTES[rng.nextU32() % 81];
    } else if (spec.dtype === 'F16') {
      // Embedding / LM head: N(0, (2 / sqrt(hidden))^2), so logits have std ~2.
      const std = 2 / Math.sqrt(config.hiddenSize);
      for (let i = 0; i < n; i += 2) {
        const h = floatToHalf(std * rng.normal());
        out[i] = h & 0xff;
        out[i + 1] = h >> 8;
      }
    } else {
      // RMSNorm weights around 1.
      const f = new Float32Array(n / 4).map(() => 1 + 0.1 * rng.normal());
      out.set(new Uint8Array(f.buffer));
    }
    done += n;
    yield out;
  }
}

function inputWidth(c: ModelConfig, scaleName: string): number {
  if (scaleName.includes('.o_proj.')) return c.numHeads * c.headDim;
  if (scaleName.includes('.down_proj.')) return c.intermediateSize;
  return c.hiddenSize;
}

/** A whole random model in memory (small configs; the CLI streams large ones). */
export function randomModelWeights(config: ModelConfig, seed: number): ModelWeights {
  const tensors = new Map<string, TensorView>();
  for (const spec of modelTensorSpecs(config)) {
    const data = new Uint8Array(tensorByteLength(spec));
    let o = 0;
    for (const chunk of randomTensorChunks(config, spec, seed)) {
      data.set(chunk, o);
      o += chunk.length;
    }
    tensors.set(spec.name, { ...spec, data });
  }
  return weightsFromSafetensors(config, tensors, '<random model>');
}

/**
 * A tiny valid config for tests (hidden 32, 2 layers, 4/2 heads, FFN 64, vocab 64), with overrides.
 * head_dim follows hidden / heads unless given.
 */
export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  const c: ModelConfig = {
    vocabSize: 64,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    intermediateSize: 64,
    activation: 'relu2glu',
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: true,
    subln: true,
    scheme: 'b1.58',
    bosTokenId: 1,
    eosTokenIds: [2],
    ...overrides,
  };
  if (overrides.headDim === undefined) c.headDim = c.hiddenSize / c.numHeads;
  // Round trip through the validator, so a test never runs on a config a reader would refuse.
  return parseModelConfig(configToJson(c), 'tinyConfig');
}
