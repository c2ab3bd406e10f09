// A minimal byte-level BPE tokenizer.json (256 byte tokens, no merges, plus special tokens) for
// random-weight benchmark models that have no real tokenizer. It encodes any text (one token per
// UTF-8 byte) but is NOT a trained vocabulary: only for benchmarks and tests.

/** GPT-2's byte -> printable character map used by byte-level BPE. */
function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return out;
}

export interface SpecialToken {
  id: number;
  content: string;
}

/** tokenizer.json for byte ids 0..255 and the given special tokens (ids must be >= 256). */
export function byteLevelTokenizerJson(specials: SpecialToken[]): Record<string, unknown> {
  const seen = new Set<number>();
  for (const s of specials) {
    if (s.id < 256 || seen.has(s.id)) throw new RangeError(`special token '${s.content}' needs a unique id >= 256 (got ${s.id})`);
    seen.add(s.id);
  }
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((ch, id) => (vocab[ch] = id));
  for (const s of specials) vocab[s.content] = s.id;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s) => ({ id: s.id, content: s.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
}
