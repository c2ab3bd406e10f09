"""Writes N pieces per corpus file of the validation split (training/corpus.py) as a JSON array of
strings, for scripts/v2-retrofit-eval.ts:  python3 scripts/held-out-texts.py 2 /tmp/val-texts.json"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from training.corpus import DEFAULT_CORPUS, corpus_files, split_file  # noqa: E402

per_file, out_file = int(sys.argv[1]), sys.argv[2]
texts = []
for f in corpus_files(DEFAULT_CORPUS):
    _, val = split_file(f)
    texts += [p for doc in val for p in doc][:per_file]
with open(out_file, 'w') as f:
    json.dump(texts, f)
print(f'{len(texts)} held-out pieces, {sum(map(len, texts))} characters -> {out_file}')
