"""Train the byte-level BPE tokenizer on the training split of the corpus.

python3 -m training.tokenizer --out DIR [--vocab-size 4096] [--sample-bytes 0]
"""
import argparse
import time

from . import bpe, corpus


def training_pieces(corpus_dir, sample_bytes):
    """Training pieces of every file; every k-th one when sample_bytes asks for ~that much text."""
    ps = [p for path in corpus.corpus_files(corpus_dir) for doc in corpus.split_file(path)[0] for p in doc]
    total = sum(map(len, ps))
    step = max(1, round(total / sample_bytes)) if sample_bytes else 1
    return ps[::step]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--corpus', default=corpus.DEFAULT_CORPUS)
    ap.add_argument('--out', required=True)
    ap.add_argument('--vocab-size', type=int, default=4096)
    ap.add_argument('--sample-bytes', type=int, default=0, help='0 = the whole training split')
    ap.add_argument('--max-length', type=int, default=512)
    args = ap.parse_args()
    t0 = time.time()
    ps = training_pieces(args.corpus, args.sample_bytes)
    counts = bpe.count_words(ps)
    print(f'tokenizer: {len(ps)} pieces, {sum(map(len, ps))} chars, {len(counts)} unique words '
          f'({time.time() - t0:.1f}s)', flush=True)
    num_merges = args.vocab_size - 256 - len(bpe.SPECIAL_TOKENS)
    merges = bpe.train_bpe(counts, num_merges)
    if len(merges) != num_merges:
        raise SystemExit(f'only {len(merges)} merges could be learned, {num_merges} needed')
    bpe.save_tokenizer(merges, args.out, args.max_length)
    print(f'tokenizer: {args.vocab_size} tokens written to {args.out} ({time.time() - t0:.1f}s)', flush=True)


if __name__ == '__main__':
    main()
