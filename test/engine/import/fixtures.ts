// Tiny random ternary models for the importer tests, written in the real BitLens format, with values
// chosen so that every foreign layout can hold them exactly: embeddings and norms are multiples of
// 1/64 below 2 and alphas are bfloat16 numbers (so BF16, F16 and F32 all represent them exactly).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '../../../engine/common/config.js';
import { bf16BytesToF32, f32ToBf16Bytes } from '../../../engine/common/formats/ternary-codecs.js';
import { randomModelWeights, tinyConfig } from '../../../engine/common/random-model.js';
import type { ModelWeights } from '../../../engine/common/weights.js';
import { PROJECTIONS } from '../../../engine/common/weights.js';
import { writeModelDir } from '../../../engine/node/model-dir.js';

export const BOS = 256;
export const EOS = 257;
export const EOT = 258;

// The 2B-4T chat format (shared/spec/bitnet.md) as a Jinja template.
export const CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}System: {% elif m['role'] == 'user' %}User: {% else %}Assistant: {% endif %}" +
  "{{ m['content'] }}<|eot_id|>{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}\nAssistant: {% endif %}";

/** GPT-2 byte -> printable character map (byte-level BPE). */
function byteChars(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + extra++));
}

/** Byte-level BPE with a few merges, Llama-3 style specials, and one unused id (263). */
export function tokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  byteChars().forEach((c, i) => (vocab[c] = i));
  const specials = [
    [BOS, '<|begin_of_text|>'],
    [EOS, '<|end_of_text|>'],
    [EOT, '<|eot_id|>'],
  ] as const;
  for (const [id, s] of specials) vocab[s] = id;
  Object.assign(vocab, { he: 259, ll: 260, hell: 261, 'Ġw': 262 });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([id, content]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: ['h e', 'l l', 'he ll', 'Ġ w'] },
  };
}

export const TOKENIZER_CONFIG = { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', chat_template: CHAT_TEMPLATE };

/** hidden 32: any layout but the 256-block GGUF types. */
export function smallConfig(o: Partial<ModelConfig> = {}): ModelConfig {
  return tinyConfig({ vocabSize: 264, bosTokenId: BOS, eosTokenIds: [EOS, EOT], maxPositionEmbeddings: 64, name: 'fixture', ...o });
}

/** hidden 256 / ffn 512: rows are whole TQ (256) and I2_S (128) blocks. */
export function blockConfig(o: Partial<ModelConfig> = {}): ModelConfig {
  return smallConfig({ hiddenSize: 256, numHeads: 4, numKvHeads: 2, intermediateSize: 512, ...o });
}

const bf16 = (x: number) => bf16BytesToF32(f32ToBf16Bytes(Float32Array.of(x)))[0];
const grid = (x: number) => Math.max(-127, Math.min(127, Math.round(x * 64))) / 64;

export function exactWeights(config: ModelConfig, seed: number): ModelWeights {
  const w = randomModelWeights(config, seed);
  w.embed = w.embed.map(grid);
  if (w.lmHead) w.lmHead = w.lmHead.map(grid);
  w.norm = w.norm.map(grid);
  for (const l of w.layers) {
    l.inputNorm = l.inputNorm.map(grid);
    l.attnSubNorm = l.attnSubNorm.map(grid);
    l.postAttnNorm = l.postAttnNorm.map(grid);
    l.ffnSubNorm = l.ffnSubNorm.map(grid);
    for (const p of PROJECTIONS) l[p].alpha = bf16(l[p].alpha);
  }
  return w;
}

export interface Workspace {
  root: string;
  at(name: string): string;
  cleanup(): Promise<void>;
}

export async function workspace(): Promise<Workspace> {
  const root = await mkdtemp(path.join(tmpdir(), 'bitlens-import-'));
  return { root, at: (n) => path.join(root, n), cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Writes a BitLens folder for `weights` with the fixture tokenizer. */
export async function writeOriginal(dir: string, weights: ModelWeights): Promise<void> {
  await writeModelDir(dir, { config: weights.config, weights, tokenizerJson: tokenizerJson(), tokenizerConfig: TOKENIZER_CONFIG });
}
