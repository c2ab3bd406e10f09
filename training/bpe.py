"""Byte-level BPE: a trainer, an encoder/decoder, and the Hugging Face tokenizer.json writer.

The encoder must give the same ids as the engine's tokenizer (@huggingface/tokenizers, JS): same
GPT-2 pre-tokenization pattern with JavaScript's Unicode classes, same byte-to-unicode map, and
lowest-rank-first, leftmost-first merging (test/training/tokenizer.test.ts checks this).
"""
import collections
import heapq
import json
import os
import re
import sys
import unicodedata

BOS, EOS, EOT = '<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>'
SPECIAL_TOKENS = [BOS, EOS, EOT]
# The 2B-4T style chat template (spec); the rendered text starts with BOS, so encode it without
# adding another.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ message['role'] | capitalize }}: {{ message['content'] }}<|eot_id|>"
    "{% if not loop.last %}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}\nAssistant: {% endif %}"
)


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def _char_class(predicate):
    """A regex character class body (ranges) of all code points satisfying predicate."""
    parts, start, prev = [], None, None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if predicate(cp):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            parts.append(re.escape(chr(start)) if start == prev else f'{re.escape(chr(start))}-{re.escape(chr(prev))}')
            start = None
    if start is not None:
        parts.append(f'{re.escape(chr(start))}-{re.escape(chr(prev))}')
    return ''.join(parts)


# JavaScript's \s (WhiteSpace + LineTerminator), which the JS tokenizer's /.../u pattern uses.
_JS_SPACE = '\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff'
_L = _char_class(lambda cp: unicodedata.category(chr(cp)).startswith('L'))
_N = _char_class(lambda cp: unicodedata.category(chr(cp)).startswith('N'))
PRETOKENIZE = re.compile(
    rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{_L}]+| ?[{_N}]+| ?[^{_JS_SPACE}{_L}{_N}]+|[{_JS_SPACE}]+(?![^{_JS_SPACE}])|[{_JS_SPACE}]+"
)


def pretokenize(text):
    """Pre-tokenized words as byte-level strings."""
    return [''.join(BYTE_TO_CHAR[b] for b in w.encode('utf-8')) for w in PRETOKENIZE.findall(text)]


def count_words(texts):
    counts = collections.Counter()
    for t in texts:
        counts.update(pretokenize(t))
    return counts


def train_bpe(word_counts, num_merges, log_every=500):
    """Learn num_merges merges from {byte-level word: count}; returns [(left, right), ...] in rank order.

    Incremental pair counts with an index from pair to the words holding it, and a lazy max-heap.
    """
    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for p in zip(w, w[1:]):
            pair_counts[p] += f
            where[p].add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < num_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negc:
            continue  # stale entry
        if -negc < 2:
            break
        merges.append(pair)
        a, b = pair
        ab = a + b
        changed = set()
        for i in where.pop(pair, ()):
            w, f = words[i], freqs[i]
            for p in zip(w, w[1:]):
                pair_counts[p] -= f
                changed.add(p)
            j, out = 0, []
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(ab)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for p in zip(out, out[1:]):
                pair_counts[p] += f
                where[p].add(i)
                changed.add(p)
        pair_counts.pop(pair, None)
        for p in changed:
            c = pair_counts.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_counts.pop(p, None)
        if log_every and len(merges) % log_every == 0:
            print(f'bpe: {len(merges)} merges, last {ab!r} x{-negc}', file=sys.stderr, flush=True)
    return merges


def build_vocab(merges):
    vocab = {BYTE_TO_CHAR[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    for s in SPECIAL_TOKENS:
        vocab[s] = len(vocab)
    return vocab


def tokenizer_json(merges):
    vocab = build_vocab(merges)
    bos = vocab[BOS]
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [
            {'id': vocab[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
             'normalized': False, 'special': True}
            for s in SPECIAL_TOKENS
        ],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        # Like Llama 3 / bitnet-b1.58-2B-4T: encoding with special tokens prepends BOS.
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': BOS, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': BOS, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': BOS, 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
            'special_tokens': {BOS: {'id': BOS, 'ids': [bos], 'tokens': [BOS]}},
        },
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {
            'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
            'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
            'vocab': vocab, 'merges': [[a, b] for a, b in merges],
        },
    }


def tokenizer_config_json(max_length):
    return {
        'tokenizer_class': 'PreTrainedTokenizerFast',
        'bos_token': BOS,
        'eos_token': EOS,
        'add_bos_token': True,
        'model_max_length': max_length,
        'clean_up_tokenization_spaces': False,
        'chat_template': CHAT_TEMPLATE,
        'added_tokens_decoder': {},
    }


def save_tokenizer(merges, out_dir, max_length):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tokenizer_json(merges), f, ensure_ascii=False)
    cfg = tokenizer_config_json(max_length)
    vocab = build_vocab(merges)
    cfg['added_tokens_decoder'] = {str(vocab[s]): {'content': s, 'special': True, 'lstrip': False, 'rstrip': False,
                                                   'normalized': False, 'single_word': False} for s in SPECIAL_TOKENS}
    with open(os.path.join(out_dir, 'tokenizer_config.json'), 'w', encoding='utf-8') as f:
        json.dump(cfg, f, ensure_ascii=False, indent=1)


class Tokenizer:
    """Encoder/decoder for a tokenizer.json written by save_tokenizer."""

    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            spec = json.load(f)
        model = spec['model']
        if model.get('type') != 'BPE':
            raise ValueError(f'{path}: model.type must be BPE, got {model.get("type")!r}')
        self.vocab = model['vocab']
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ranks = {tuple(m if isinstance(m, list) else m.split(' ', 1)): r for r, m in enumerate(model['merges'])}
        self.special = {t['content']: t['id'] for t in spec.get('added_tokens', [])}
        self.special_split = re.compile('(' + '|'.join(re.escape(s) for s in self.special) + ')') if self.special else None
        self.bos_id = self.special.get(BOS)
        self.eos_id = self.special.get(EOS)
        self._cache = {}

    def __len__(self):
        return len(self.vocab)

    def _bpe(self, word):
        ids = self._cache.get(word)
        if ids is not None:
            return ids
        parts = list(word)
        while len(parts) > 1:
            best, best_i = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, best_i = r, i
            if best is None:
                break
            parts[best_i:best_i + 2] = [parts[best_i] + parts[best_i + 1]]
        ids = [self.vocab[p] for p in parts]
        self._cache[word] = ids
        return ids

    def encode(self, text, add_bos=False):
        """Token ids of text; special tokens written in the text map to their ids."""
        out = [self.bos_id] if add_bos else []
        pieces = self.special_split.split(text) if self.special_split else [text]
        for piece in pieces:
            if piece in self.special:
                out.append(self.special[piece])
                continue
            for w in pretokenize(piece):
                out.extend(self._bpe(w))
        return out

    def decode(self, ids, skip_special=False):
        out, buf = [], bytearray()
        for i in ids:
            tok = self.id_to_token[int(i)]
            if tok in self.special:
                if not skip_special:
                    out.append(buf.decode('utf-8', errors='replace'))
                    buf = bytearray()
                    out.append(tok)
                continue
            buf.extend(CHAR_TO_BYTE[c] for c in tok)
        out.append(buf.decode('utf-8', errors='replace'))
        return ''.join(out)
