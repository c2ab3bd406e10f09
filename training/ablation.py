"""The small-scale reproduction of BitNet v2's Table 1 and its no-rotation ablation, on one GPU.

Tokenizes the corpus (parallel), then trains three processes concurrently with the same data,
seed and steps: [b1.58 -> fork a4-noh], [a4.8], [v2-a8 -> fork v2-a4]; each fork shares the A8
trunk and continues the last --a4-frac of the steps with A4 (see train.py). Writes results.json
(val ppl / bits per byte per run), logs, and a tar of every exported model folder to --out.

python3 -m training.ablation --tokenizer assets/models/bitlens-v2 --corpus .corpus --out $OUT --steps 1500
"""
import argparse
import json
import os
import subprocess
import sys
import tarfile
import time

from . import corpus, data

GROUPS = ['b1.58,a4-noh', 'a4.8', 'v2-a8,v2-a4']


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--corpus', default=corpus.DEFAULT_CORPUS)
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', default='/tmp/bitlens-ablation')
    ap.add_argument('--groups', default=';'.join(GROUPS), help='";"-separated run groups, one process each')
    ap.add_argument('--deadline', type=float, default=0, help='seconds from now at which training stops')
    ap.add_argument('--a4-seconds', type=float, default=60,
                    help='with --deadline: switch to the final quantizers at the latest this long before it')
    args, train_args = ap.parse_known_args()
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    data_dir = os.path.join(args.work, 'data')
    data.build(os.path.join(args.tokenizer, 'tokenizer.json'), args.corpus, data_dir)
    procs, groups = [], args.groups.split(';')
    threads = max(1, (os.cpu_count() or 1) // len(groups))  # no oversubscription while exporting
    for i, group in enumerate(groups):
        out = os.path.join(args.work, f'group{i}')
        cmd = [sys.executable, '-m', 'training.train', '--data', data_dir, '--tokenizer', args.tokenizer,
               '--out', out, '--runs', group, '--threads', str(threads), *train_args]
        left = args.deadline - (time.time() - t0)
        if args.deadline:
            cmd += ['--deadline', f'{max(30.0, left):.0f}', '--switch-by', f'{max(20.0, left - args.a4_seconds):.0f}']
        logf = open(os.path.join(args.work, f'log-group{i}.txt'), 'w')
        procs.append((group, out, subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                                   env={**os.environ, 'PYTHONUNBUFFERED': '1'})))
        print(f'ablation: started {group}: {" ".join(cmd)}', flush=True)
    results, failed = {}, []
    for group, out, p in procs:
        rc = p.wait()
        path = os.path.join(out, 'results.json')
        if rc != 0 or not os.path.exists(path):
            failed.append(group)
            print(f'ablation: {group} failed (rc {rc})', flush=True)
            continue
        with open(path) as f:
            results.update(json.load(f))
        for r in group.split(','):  # one tar per model folder: the device returns files of <= 16 MiB
            if os.path.isdir(os.path.join(out, r)):
                with tarfile.open(os.path.join(args.out, f'model-{r}.tar'), 'w') as tar:
                    tar.add(os.path.join(out, r), arcname=r)
    with tarfile.open(os.path.join(args.out, 'logs.tar'), 'w') as tar:
        for i, (_, out, _) in enumerate(procs):
            tar.add(os.path.join(args.work, f'log-group{i}.txt'), arcname=f'log-group{i}.txt')
            if os.path.exists(os.path.join(out, 'log.jsonl')):
                tar.add(os.path.join(out, 'log.jsonl'), arcname=f'log-group{i}.jsonl')
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump({'results': results, 'failed': failed, 'seconds': round(time.time() - t0, 1)}, f, indent=1)
    for r, v in results.items():
        print(f'ablation: {r:8s} val ppl {v["val_ppl"]:.3f} bpb {v["val_bpb"]:.4f} steps {v["steps"]}', flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
