// Tokenizer in GGUF metadata (tokenizer.ggml.*) <-> Hugging Face tokenizer.json, for byte-level BPE
// vocabularies (tokenizer.ggml.model "gpt2": GPT-2 style, and Llama-3's with pre "llama-bpe").
// GGUF keeps the tokens (already in byte-to-unicode form), their types (1 normal, 2 unknown,
// 3 control, 4 user defined, 5 unused, 6 byte) and the merges as "left right" strings.
import { ModelFormatError } from '../errors.js';
import { gguf, ggufMeta, type GgufHeader, type GgufMetaValue } from './gguf.js';

export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

// Llama-3's pre-tokenizer split. The original starts with "(?i:'s|'t|...)"; JavaScript before
// Node 23 has no inline flag groups, so the contractions are spelt out case-insensitively.
export const LLAMA3_SPLIT_REGEX =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const LLAMA3_PRE = new Set(['llama-bpe', 'llama3', 'llama-v3', 'smaug-bpe']);

export interface GgufTokenizer {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  bosTokenId: number;
  /** eos, eot and eom ids from the metadata (deduplicated, eos first). */
  eosTokenIds: number[];
  vocabSize: number;
}

/** Builds tokenizer.json / tokenizer_config.json from a GGUF header's tokenizer metadata. */
export function tokenizerFromGguf(h: GgufHeader, file: string): GgufTokenizer {
  const m = ggufMeta(h, file);
  const model = m.str('tokenizer.ggml.model', '');
  if (model !== 'gpt2') {
    throw new ModelFormatError(file, `metadata 'tokenizer.ggml.model' is ${JSON.stringify(model || '(missing)')}; only byte-level BPE ("gpt2", as in Llama 3 / BitNet 2B-4T) is supported`);
  }
  const tokens = m.array('tokenizer.ggml.tokens', 'string') as string[] | undefined;
  if (!tokens?.length) throw new ModelFormatError(file, "metadata 'tokenizer.ggml.tokens' is missing or empty");
  const types = (m.array('tokenizer.ggml.token_type', 'int') as number[] | undefined) ?? [];
  if (types.length && types.length !== tokens.length) {
    throw new ModelFormatError(file, `metadata 'tokenizer.ggml.token_type' has ${types.length} entries, tokenizer.ggml.tokens has ${tokens.length}`);
  }
  const merges = (m.array('tokenizer.ggml.merges', 'string') as string[] | undefined) ?? [];
  const id = (key: string) => {
    if (!m.has(key)) return undefined;
    const v = m.int(key);
    if (v < 0 || v >= tokens.length) throw new ModelFormatError(file, `metadata '${key}': token id ${v} is outside the vocabulary (${tokens.length} tokens)`);
    return v;
  };
  const bos = id('tokenizer.ggml.bos_token_id');
  const eos = id('tokenizer.ggml.eos_token_id');
  if (bos === undefined || eos === undefined) throw new ModelFormatError(file, "metadata 'tokenizer.ggml.bos_token_id' and 'tokenizer.ggml.eos_token_id' are required");
  const eosIds = [...new Set([eos, id('tokenizer.ggml.eot_token_id'), id('tokenizer.ggml.eom_token_id')].filter((x): x is number => x !== undefined))];
  // Llama-3 chat ends a turn with <|eot_id|>; older conversions do not record it as eot.
  const eot = tokens.indexOf('<|eot_id|>');
  if (eot >= 0 && !eosIds.includes(eot)) eosIds.push(eot);

  const vocab: Record<string, number> = {};
  const added: Record<string, unknown>[] = [];
  tokens.forEach((t, i) => {
    if (Object.hasOwn(vocab, t)) throw new ModelFormatError(file, `metadata 'tokenizer.ggml.tokens': token ${JSON.stringify(t)} appears twice (ids ${vocab[t]} and ${i})`);
    vocab[t] = i;
    const type = types[i] ?? TOKEN_TYPE.normal;
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined) {
      added.push({ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: type === TOKEN_TYPE.userDefined, special: type === TOKEN_TYPE.control });
    }
  });
  const pre = m.str('tokenizer.ggml.pre', 'default');
  const preTokenizer = LLAMA3_PRE.has(pre)
    ? {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: LLAMA3_SPLIT_REGEX }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
        ],
      }
    : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: LLAMA3_PRE.has(pre), vocab, merges },
  };
  const tokenizerConfig: Record<string, unknown> = { bos_token: tokens[bos], eos_token: tokens[eosIds[eosIds.length - 1]] };
  if (m.has('tokenizer.chat_template')) tokenizerConfig.chat_template = m.str('tokenizer.chat_template');
  return { tokenizerJson, tokenizerConfig, bosTokenId: bos, eosTokenIds: eosIds, vocabSize: tokens.length };
}

/**
 * The tokenizer.ggml.* metadata for a byte-level BPE tokenizer.json (the reverse of
 * tokenizerFromGguf). Ids missing from the vocabulary up to `vocabSize` become unused
 * placeholder tokens, because llama.cpp takes the vocabulary size from the token list.
 */
export function ggufTokenizerMetadata(
  tokenizerJson: unknown,
  opts: { vocabSize: number; bosTokenId: number; eosTokenId: number; eotTokenId?: number; chatTemplate?: string },
): [string, GgufMetaValue][] {
  const tj = tokenizerJson as { model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] }; added_tokens?: { id: number; content: string; special?: boolean }[]; pre_tokenizer?: { type?: string } };
  if (tj?.model?.type !== 'BPE' || !tj.model.vocab) throw new Error('tokenizer.json is not a BPE tokenizer; GGUF export supports byte-level BPE only');
  const tokens: (string | undefined)[] = new Array(opts.vocabSize);
  const types = new Array<number>(opts.vocabSize).fill(TOKEN_TYPE.normal);
  const put = (t: string, i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= opts.vocabSize) throw new Error(`token ${JSON.stringify(t)} has id ${i}, outside the vocabulary size ${opts.vocabSize}`);
    tokens[i] = t;
  };
  for (const [t, i] of Object.entries(tj.model.vocab)) put(t, i);
  for (const a of tj.added_tokens ?? []) {
    put(a.content, a.id);
    types[a.id] = a.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
  }
  for (let i = 0; i < opts.vocabSize; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = TOKEN_TYPE.unused;
    }
  }
  const merges = (tj.model.merges ?? []).map((x) => (Array.isArray(x) ? x.join(' ') : x));
  const meta: [string, GgufMetaValue][] = [
    ['tokenizer.ggml.model', gguf.str('gpt2')],
    ['tokenizer.ggml.pre', gguf.str(tj.pre_tokenizer?.type === 'Sequence' ? 'llama-bpe' : 'default')],
    ['tokenizer.ggml.tokens', gguf.arr('string', tokens as string[])],
    ['tokenizer.ggml.token_type', gguf.arr('i32', types)],
    ['tokenizer.ggml.merges', gguf.arr('string', merges)],
    ['tokenizer.ggml.bos_token_id', gguf.u32(opts.bosTokenId)],
    ['tokenizer.ggml.eos_token_id', gguf.u32(opts.eosTokenId)],
    ['tokenizer.ggml.add_bos_token', gguf.bool(true)],
  ];
  if (opts.eotTokenId !== undefined) meta.push(['tokenizer.ggml.eot_token_id', gguf.u32(opts.eotTokenId)]);
  if (opts.chatTemplate !== undefined) meta.push(['tokenizer.chat_template', gguf.str(opts.chatTemplate)]);
  return meta;
}
