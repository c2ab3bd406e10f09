"""Continue prompts with an exported model, using the fp32 reference (the engine's arithmetic).

python3 -m training.sample assets/models/bitlens-v2 --tokens 48 --temperature 0.8 --top-k 40 --seed 7 "Prompt"
"""
import argparse
import os

import torch

from .bpe import Tokenizer
from .export import ReferenceModel


def generate(ref, tok, prompt, tokens, temperature, top_k, generator):
    ids = tok.encode(prompt, add_bos=True)
    out = []
    for _ in range(tokens):
        logits = ref.logits(ids)[-1]
        if temperature <= 0:
            nxt = int(torch.argmax(logits))
        else:
            logits = logits / temperature
            if top_k:
                kth = torch.topk(logits, top_k).values[-1]
                logits = logits.masked_fill(logits < kth, float('-inf'))
            nxt = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator))
        if nxt == tok.eos_id:
            break
        out.append(nxt)
        ids.append(nxt)
    return tok.decode(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('model_dir')
    ap.add_argument('prompts', nargs='+')
    ap.add_argument('--tokens', type=int, default=48)
    ap.add_argument('--temperature', type=float, default=0.0, help='0 = greedy')
    ap.add_argument('--top-k', type=int, default=40)
    ap.add_argument('--seed', type=int, default=7)
    args = ap.parse_args()
    ref = ReferenceModel(args.model_dir)
    tok = Tokenizer(os.path.join(args.model_dir, 'tokenizer.json'))
    g = torch.Generator().manual_seed(args.seed)
    for p in args.prompts:
        print(f'{p!r} -> {generate(ref, tok, p, args.tokens, args.temperature, args.top_k, g)!r}', flush=True)


if __name__ == '__main__':
    main()
