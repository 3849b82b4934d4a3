"""PyTorch reference for bench/generate.ts (hand-run measurement, not a test): stateful greedy decoding
of a char LM the size of models/kjv-char — Embedding(V->64) -> LSTM(256) -> Linear(V) — one step per
token with the (h, c) state carried, argmax on the logits, torch.no_grad(). Random weights (speed
does not depend on them). Prints ONE JSON object on stdout:
  {"torch": "<version>", "threads": N, "tokensPerSec": {"1": ..., "32": ...}}  (tokens summed over the batch; median of --reps)

  /usr/bin/python3 bench/torch_generate.py [--vocab 66] [--units 256] [--batches 1,32] [--tokens 400] [--reps 3] [--threads 1]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--vocab', type=int, default=66)
    p.add_argument('--units', type=int, default=256)
    p.add_argument('--batches', default='1,32')
    p.add_argument('--tokens', type=int, default=400)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    emb = nn.Embedding(a.vocab, 64)
    lstm = nn.LSTM(64, a.units, batch_first=True)
    out = nn.Linear(a.units, a.vocab)
    result = {}
    with torch.no_grad():
        for b in [int(x) for x in a.batches.split(',')]:
            runs = []
            for _ in range(a.reps + 1):  # the first rep warms up
                ids = torch.zeros(b, 1, dtype=torch.long)
                state = None
                t0 = time.perf_counter()
                for _ in range(a.tokens):
                    y, state = lstm(emb(ids), state)
                    ids = out(y[:, -1]).argmax(-1, keepdim=True)
                runs.append(b * a.tokens / (time.perf_counter() - t0))
            result[str(b)] = round(statistics.median(runs[1:]))
    print(json.dumps({'torch': torch.__version__, 'threads': a.threads, 'tokensPerSec': result}))


if __name__ == '__main__':
    main()
