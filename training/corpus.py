"""The training corpus: xz text files, documents separated by blank lines, a deterministic held-out split.

Several files are one "document" of one entry per line (dictionaries, Bible verses, Brown sentences),
so a long document is cut at line boundaries into pieces of about PIECE_CHARS; pieces are the units
of the validation split (1 in VAL_MODULUS by a hash of the text, so the split does not depend on
file order and duplicates never straddle it). In the token stream each document is
BOS + ids + EOS, and consecutive pieces of one document are joined by a newline token.
"""
import hashlib
import lzma
import os
import re

DEFAULT_CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'corpus')
_BLANK = re.compile(r'\n[ \t]*\n')
VAL_MODULUS = 200
PIECE_CHARS = 4000


def corpus_files(corpus_dir):
    if not os.path.isdir(corpus_dir):
        raise FileNotFoundError(f'corpus folder {corpus_dir} does not exist')
    files = sorted(f for f in os.listdir(corpus_dir) if f.endswith('.txt.xz') or f.endswith('.txt'))
    if not files:
        raise FileNotFoundError(f'no .txt.xz or .txt files in corpus folder {corpus_dir}')
    return [os.path.join(corpus_dir, f) for f in files]


def read_text(path):
    opener = lzma.open if path.endswith('.xz') else open
    # errors='replace': gcide_defs.txt has 3 stray cp1252 bytes; U+FFFD is harmless there.
    with opener(path, 'rt', encoding='utf-8', errors='replace') as f:
        return f.read()


def documents(text):
    """Blank-line separated documents, stripped, empty ones dropped."""
    return [d.strip() for d in _BLANK.split(text.replace('\r\n', '\n')) if d.strip()]


def pieces(doc, max_chars=PIECE_CHARS):
    """A document cut at line boundaries into pieces of at most ~max_chars (a longer line stays whole)."""
    if len(doc) <= max_chars:
        return [doc]
    out, cur, n = [], [], 0
    for line in doc.split('\n'):
        if cur and n + len(line) > max_chars:
            out.append('\n'.join(cur))
            cur, n = [], 0
        cur.append(line)
        n += len(line) + 1
    if cur:
        out.append('\n'.join(cur))
    return [p.strip() for p in out if p.strip()]


def is_validation(piece):
    return int.from_bytes(hashlib.md5(piece.encode('utf-8')).digest()[:8], 'little') % VAL_MODULUS == 0


def split_file(path):
    """(train, val): lists of documents, each a list of its pieces (pieces of the other split removed)."""
    train, val = [], []
    for doc in documents(read_text(path)):
        ps = pieces(doc)
        t = [p for p in ps if not is_validation(p)]
        v = [p for p in ps if is_validation(p)]
        if t:
            train.append(t)
        if v:
            val.append(v)
    return train, val
