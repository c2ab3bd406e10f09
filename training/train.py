"""Train one or more BitNet runs that share an A8 trunk, evaluate them, and export them.

The papers' recipe: train W1.58A8 from scratch, then continue the last --a4-frac of the steps with
the final activation quantizers (A4 for v2, the hybrid for a4.8), keeping the optimizer state.
Runs given together (--runs v2-a8,v2-a4) share the architecture and the A8 trunk; at the switch the
trunk is copied with its optimizer state, and every copy sees the same batches.

python3 -m training.train --data DIR --tokenizer DIR --out DIR --runs v2-a8,v2-a4 --steps 2000
"""
import argparse
import copy
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import data as data_mod
from .export import export_model
from .model import A8_STAGE, EXPORTABLE, SCHEMES, BitNetLM, ModelConfig

ACTIVATION = {'fp': 'swiglu', 'b1.58': 'swiglu', 'v2-a8': 'swiglu', 'v2-a4': 'swiglu', 'a4-noh': 'swiglu',
              'a4.8': 'relu2glu'}


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def make_optimizer(model, lr, weight_decay):
    decay = [p for n, p in model.named_parameters() if p.ndim == 2 and 'embed' not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim == 2 and 'embed' not in n)]
    return torch.optim.AdamW([{'params': decay, 'weight_decay': weight_decay}, {'params': other, 'weight_decay': 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def autocast(device):
    if device.type == 'cuda':
        return torch.autocast('cuda', dtype=torch.bfloat16)
    return torch.autocast('cpu', enabled=False)


def loss_fn(model, batch, device):
    with autocast(device):
        logits = model(batch[:, :-1])
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


@torch.no_grad()
def evaluate(model, val, byte_len, seq, batch_size, device, max_tokens=None):
    """Mean loss (nats/token), perplexity and bits per byte over the validation stream."""
    model.eval()
    n = len(val) if not max_tokens else min(len(val), max_tokens)
    starts = list(range(0, n - 1, seq))
    total_nats, total_tokens, total_bytes = 0.0, 0, 0
    for i in range(0, len(starts), batch_size):
        rows = [val[s:s + seq + 1] for s in starts[i:i + batch_size]]
        width = min(len(r) for r in rows)  # the last row may be short: evaluate it alone
        if width < len(rows[0]):
            rows, rest = rows[:-1], rows[-1:]
        else:
            rest = []
        for group in ([rows] if rows else []) + ([rest] if rest else []):
            x = torch.from_numpy(np.stack(group).astype(np.int64)).to(device)
            with autocast(device):
                logits = model(x[:, :-1])
            nats = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction='sum')
            total_nats += nats.item()
            total_tokens += x[:, 1:].numel()
            total_bytes += int(byte_len[x[:, 1:].cpu().numpy()].sum())
    model.train()
    loss = total_nats / total_tokens
    return {'val_loss': loss, 'val_ppl': math.exp(loss), 'val_bpb': total_nats / math.log(2) / total_bytes,
            'val_tokens': total_tokens}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--data', required=True, help='folder with train.npy and val.npy (training.data)')
    ap.add_argument('--tokenizer', required=True, help='folder with tokenizer.json and tokenizer_config.json')
    ap.add_argument('--out', required=True)
    ap.add_argument('--runs', default='v2-a4', help='comma-separated schemes sharing one architecture')
    ap.add_argument('--hidden', type=int, default=512)
    ap.add_argument('--layers', type=int, default=8)
    ap.add_argument('--heads', type=int, default=8)
    ap.add_argument('--kv-heads', type=int, default=4)
    ap.add_argument('--ffn', type=int, default=1024)
    ap.add_argument('--seq', type=int, default=512)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--a4-frac', type=float, default=0.07, help='fraction of steps with the final quantizers')
    ap.add_argument('--lr', type=float, default=2.5e-3)
    ap.add_argument('--warmup', type=int, default=0, help='0 = 3%% of the steps')
    ap.add_argument('--weight-decay', type=float, default=0.05)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--deadline', type=float, default=0, help='seconds; stop training early (flagged) past it')
    ap.add_argument('--switch-by', type=float, default=0,
                    help='seconds; switch to the final quantizers at the latest then, so a late run still gets them')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (0 = torch default)')
    ap.add_argument('--eval-tokens', type=int, default=0, help='0 = the whole validation split')
    ap.add_argument('--log-every', type=int, default=50)
    ap.add_argument('--compile', action='store_true', help='torch.compile the model (torch >= 2)')
    ap.add_argument('--no-export', action='store_true')
    ap.add_argument('--name-prefix', default='bitlens')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t_start = time.time()
    runs = args.runs.split(',')
    for r in runs:
        if r not in SCHEMES:
            raise SystemExit(f'unknown scheme {r!r}; known: {", ".join(SCHEMES)}')
    arch = {(SCHEMES[r]['hadamard'], ACTIVATION[r], A8_STAGE[r]) for r in runs}
    if len(arch) != 1:
        raise SystemExit(f'runs {runs} do not share one architecture and A8 stage')
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
    train = np.load(os.path.join(args.data, 'train.npy'), mmap_mode='r')
    val = np.load(os.path.join(args.data, 'val.npy'))
    tok_path = os.path.join(args.tokenizer, 'tokenizer.json')
    byte_len = data_mod.token_byte_lengths(tok_path)
    cfg = ModelConfig(vocab_size=len(byte_len), hidden_size=args.hidden, num_layers=args.layers,
                      num_heads=args.heads, num_kv_heads=args.kv_heads, intermediate_size=args.ffn,
                      activation=ACTIVATION[runs[0]], max_position_embeddings=args.seq, scheme=runs[-1])
    trunk = BitNetLM(cfg).to(device)
    opt = make_optimizer(trunk, args.lr, args.weight_decay)
    n_params = sum(p.numel() for p in trunk.parameters())
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, 'log.jsonl'), 'a')

    def emit(rec):
        rec = {'t': round(time.time() - t_start, 2), **rec}
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + '\n')
        log.flush()

    emit({'event': 'start', 'runs': runs, 'params': n_params, 'train_tokens': len(train), 'val_tokens': len(val),
          'config': vars(args), 'torch': torch.__version__})
    compile_fn = torch.compile if (args.compile and hasattr(torch, 'compile')) else (lambda m: m)
    warmup = args.warmup or max(1, int(0.03 * args.steps))
    switch = args.steps - int(round(args.a4_frac * args.steps)) if any(A8_STAGE[r] != r for r in runs) else args.steps
    rng = np.random.default_rng(args.seed)
    # Until the switch: one trained model (the trunk). After: one (model, optimizer) per run.
    members = [('trunk', trunk, compile_fn(trunk), opt)]
    tokens_per_step = args.batch * args.seq
    t_train, truncated, results = time.time(), False, {}
    step = 0
    for step in range(args.steps):
        late = args.switch_by and step < switch and time.time() - t_start > args.switch_by
        if step == switch or late:
            if late:
                emit({'event': 'late_switch', 'step': step, 'planned': switch})
                switch = step
            members = fork(members[0], runs, args, compile_fn, emit)
        if args.deadline and time.time() - t_start > args.deadline:
            truncated = True
            emit({'event': 'deadline', 'step': step})
            break
        offs = rng.integers(0, len(train) - args.seq - 1, size=args.batch)
        batch = torch.from_numpy(np.stack([train[o:o + args.seq + 1] for o in offs]).astype(np.int64)).to(device)
        lr = lr_at(step, args.steps, args.lr, warmup)
        for name, model, fwd, o in members:
            for g in o.param_groups:
                g['lr'] = lr
            loss = loss_fn(fwd, batch, device)
            o.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            o.step()
            if step % args.log_every == 0 or step == args.steps - 1:
                el = time.time() - t_train
                emit({'event': 'train', 'run': name, 'step': step, 'loss': round(loss.item(), 4), 'lr': lr,
                      'tok_per_s': round((step + 1) * tokens_per_step / el), 'elapsed': round(el, 1)})
    steps_done = step + (0 if truncated else 1)
    t_end = time.time()
    if len(members) == 1 and members[0][0] == 'trunk':  # never reached the switch (no A4 stage, or truncated)
        members = fork(members[0], runs, args, compile_fn, emit)
    for name, model, fwd, _ in members:
        res = evaluate(model, val, byte_len, args.seq, args.batch, device, args.eval_tokens)
        res.update({'run': name, 'scheme': model.active_scheme, 'steps': steps_done, 'switch_step': switch,
                    'train_tokens_seen': steps_done * tokens_per_step, 'seed': args.seed, 'params': n_params,
                    'truncated': truncated, 'train_seconds': round(time.time() - t_train, 1),
                    'tokens_per_s': round(steps_done * tokens_per_step / max(1e-9, t_end - t_train)), 'device': str(device)})
        if device.type == 'cuda':
            res['max_memory_gib'] = round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)
            res['gpu'] = torch.cuda.get_device_name()
        if model.active_scheme != name:
            res['note'] = f'never switched to {name} (stopped before the switch step)'
        results[name] = res
        emit({'event': 'eval', **res})
        if not args.no_export and name in EXPORTABLE:
            model.cpu()
            desc = (f'BitLens {name} model trained by training/train.py: {cfg.num_layers} layers, width {cfg.hidden_size}, '
                    f'{steps_done * tokens_per_step / 1e6:.0f}M tokens, seed {args.seed}')
            export_model(model, args.tokenizer, os.path.join(args.out, name), f'{args.name_prefix}-{name}', desc)
            emit({'event': 'exported', 'run': name, 'dir': os.path.join(args.out, name)})
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    return results


def fork(member, runs, args, compile_fn, emit):
    """Copies of the trunk (weights and optimizer state), one per run, switched to the run's quantizers."""
    _, trunk, fwd, opt = member
    out = []
    for i, r in enumerate(runs):
        if i == len(runs) - 1:
            model, o, f = trunk, opt, fwd
        else:
            model = copy.deepcopy(trunk)
            o = make_optimizer(model, args.lr, args.weight_decay)
            o.load_state_dict(copy.deepcopy(opt.state_dict()))  # load_state_dict may alias tensors
            f = compile_fn(model)
        model.cfg.scheme = r
        model.set_scheme(r)
        out.append((r, model, f, o))
    emit({'event': 'switch', 'runs': runs})
    return out


if __name__ == '__main__':
    main()
