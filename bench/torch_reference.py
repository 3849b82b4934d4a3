"""PyTorch reference for bench/train-matrix.ts (hand-run measurement, not a test).

Same models as the tf.js matrix: Embedding(96->64) -> LSTM(256) | GRU(256) | LSTM(512) x 2 (batch_first)
-> Linear(96), cross-entropy on every position, Adam(2e-3), batch 32 x 64 random tokens,
torch.set_num_threads(2), fixed seed. Prints ONE JSON object on stdout:
  {"torch": "<version>", "threads": 2, "models": {"lstm256": {"tokensPerSec": ..., "runs": [...]}, ...}}
Runs of the models are interleaved (rep 1 of each model, then rep 2, ...) and the median is reported.

  /usr/bin/python3 bench/torch_reference.py [--batches 4] [--reps 3] [--threads 2] [--models lstm256,gru256,lstm512x2]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn

V, E, B, T = 96, 64, 32, 64


class CharLM(nn.Module):
    def __init__(self, cell: str, hidden: int, layers: int):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        rnn = nn.LSTM if cell == 'lstm' else nn.GRU
        self.rnn = rnn(E, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, V)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.out(h)


MODELS = {
    'lstm256': ('lstm', 256, 1),
    'gru256': ('gru', 256, 1),
    'lstm512x2': ('lstm', 512, 2),
}


def run(name: str, batches: int) -> float:
    cell, hidden, layers = MODELS[name]
    model = CharLM(cell, hidden, layers)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randint(0, V, (B, T))
    y = torch.randint(0, V, (B, T))

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x).reshape(B * T, V), y.reshape(B * T))
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(batches):
        step()
    return batches * B * T / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--batches', type=int, default=4)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--models', default=','.join(MODELS))
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    names = [m for m in a.models.split(',') if m]
    for m in names:
        if m not in MODELS:
            raise SystemExit(f'unknown model {m!r} (expected one of {",".join(MODELS)})')
    runs = {m: [] for m in names}
    for _ in range(a.reps):
        for m in names:
            runs[m].append(run(m, a.batches))
    print(json.dumps({
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'models': {m: {'tokensPerSec': round(statistics.median(r)), 'runs': [round(v) for v in r]} for m, r in runs.items()},
    }))


if __name__ == '__main__':
    main()
