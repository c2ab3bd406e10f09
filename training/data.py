"""Tokenize the corpus into train/validation token streams (uint16), in parallel processes.

Each document is BOS + ids + EOS; consecutive pieces of one document are joined by the newline
token (see corpus.py).
"""
import multiprocessing as mp
import os
import time

import numpy as np

from . import corpus
from .bpe import Tokenizer

_TOK = None


def _init(tokenizer_path):
    global _TOK
    _TOK = Tokenizer(tokenizer_path)


def _encode_docs(docs):
    tok = _TOK
    nl = tok.encode('\n')
    out = []
    for doc in docs:
        out.append(tok.bos_id)
        for i, piece in enumerate(doc):
            if i:
                out.extend(nl)
            out.extend(tok.encode(piece))
        out.append(tok.eos_id)
    return np.array(out, dtype=np.uint16)


def _chunks(docs, size):
    cur, n = [], 0
    for d in docs:
        cur.append(d)
        n += sum(map(len, d))
        if n >= size:
            yield cur
            cur, n = [], 0
    if cur:
        yield cur


def load_splits(corpus_dir, files=None, max_chars=None):
    """(train_docs, val_docs) over the corpus; `files` picks some files, max_chars caps each file's text."""
    train, val = [], []
    for path in corpus.corpus_files(corpus_dir):
        if files and os.path.basename(path).split('.')[0] not in files:
            continue
        t, v = corpus.split_file(path)
        if max_chars:
            t = _truncate(t, max_chars)
        train += t
        val += v
    return train, val


def _truncate(docs, max_chars):
    out, n = [], 0
    for d in docs:
        if n >= max_chars:
            break
        out.append(d)
        n += sum(map(len, d))
    return out


def tokenize(tokenizer_path, docs, workers=None, chunk_chars=1_000_000):
    if len(Tokenizer(tokenizer_path)) > 65536:
        raise ValueError('vocabulary too large for uint16 token ids')
    workers = workers or os.cpu_count()
    chunks = list(_chunks(docs, chunk_chars))
    if workers <= 1 or len(chunks) <= 1:
        _init(tokenizer_path)
        parts = [_encode_docs(c) for c in chunks]
    else:
        with mp.get_context('fork').Pool(workers, _init, (tokenizer_path,)) as pool:
            parts = pool.map(_encode_docs, chunks, chunksize=1)
    return np.concatenate(parts) if parts else np.zeros(0, np.uint16)


def token_byte_lengths(tokenizer_path):
    """UTF-8 bytes each token stands for (special tokens count 1: the separator they replace)."""
    tok = Tokenizer(tokenizer_path)
    lengths = np.zeros(len(tok), dtype=np.int64)
    for t, i in tok.vocab.items():
        lengths[i] = 1 if t in tok.special else len(t)  # byte-level: one char per byte
    return lengths


def build(tokenizer_path, corpus_dir, out_dir, workers=None, files=None, max_chars=None):
    """Write train.npy / val.npy token streams to out_dir; returns their sizes."""
    t0 = time.time()
    train_docs, val_docs = load_splits(corpus_dir, files, max_chars)
    train = tokenize(tokenizer_path, train_docs, workers)
    val = tokenize(tokenizer_path, val_docs, workers)
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, 'train.npy'), train)
    np.save(os.path.join(out_dir, 'val.npy'), val)
    chars = sum(len(p) for d in train_docs for p in d)
    print(f'data: {len(train)} train tokens ({chars} chars, {chars / max(1, len(train)):.2f} chars/token), '
          f'{len(val)} val tokens, {time.time() - t0:.1f}s', flush=True)
    return len(train), len(val)


def main():
    import argparse
    ap = argparse.ArgumentParser(description='python3 -m training.data --tokenizer DIR --out DIR [--corpus DIR]')
    ap.add_argument('--tokenizer', required=True, help='folder with tokenizer.json')
    ap.add_argument('--corpus', default=corpus.DEFAULT_CORPUS)
    ap.add_argument('--out', required=True)
    ap.add_argument('--workers', type=int, default=0)
    args = ap.parse_args()
    build(os.path.join(args.tokenizer, 'tokenizer.json'), args.corpus, args.out, args.workers or None)


if __name__ == '__main__':
    main()
