"""PyTorch counterpart of bench/lm-quality.ts (hand-run measurement, not a test).

Trains the same character LM that seqserve trained — Embedding(V->E) -> N x (LSTM(H) -> Dropout(p))
-> Linear(V), batch_first, softmax cross-entropy on every position, Adam (same lr, betas,
epsilon), the same gradient clipping (global L2 norm) and learning-rate schedule — on EXACTLY the
batches seqserve trained on, in the same order (bench/lm-quality.ts writes them from
src/train/lm-data.ts's epochPlan), then reports the mean NLL per character (nats) over the same
held-out windows (validationBatches: non-overlapping windows of the held-out tail, zero initial
state per window).

Input: a directory written by bench/lm-quality.ts with
  meta.json   {"vocab", "embedding_dim", "units", "layers", "dropout", "seq_len", "batch_size",
               "steps", "lr", "beta1", "beta2", "eps", "clip_norm", "lr_schedule", "warmup_steps",
               "total_steps", "cosine_floor", "seed"}
  train.u16   uint16 little-endian [steps, batch_size, seq_len + 1]: window w of step s is x = w[:-1], y = w[1:]
  val.u16     uint16 little-endian [rows, val_len + 1] (val_len in meta.json)
Prints ONE JSON object on stdout:
  {"torch", "threads", "init", "val_nats", "val_tokens", "train_loss_last", "train_seconds", "tokens_per_sec"}

  /usr/bin/python3 bench/torch_lm_quality.py DIR [--init torch|seqserve|seqserve-uniform-emb] [--threads 1]

--init torch (default): PyTorch's own initialisation (a PyTorch user's model).
--init seqserve: seqserve's initialisation mirrored (embedding N(0, 1), Glorot-uniform input and
  recurrent kernels, zero biases with the forget-gate bias at 1, Glorot-uniform output layer), to
  tell initialisation effects from everything else.
--init seqserve-uniform-emb: as seqserve, but the embedding U(-0.05, 0.05) (Keras' default, and
  seqserve's until the bench showed it slows training).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn


class CharLM(nn.Module):
    def __init__(self, vocab: int, emb: int, units: int, layers: int, dropout: float):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        # One nn.LSTM per layer so dropout follows EVERY layer, the last included (as src/arch/lm.ts
        # does); nn.LSTM(dropout=) would skip the last.
        self.rnns = nn.ModuleList([nn.LSTM(emb if i == 0 else units, units, batch_first=True) for i in range(layers)])
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(units, vocab)

    def forward(self, x):
        h = self.emb(x)
        for rnn in self.rnns:
            h, _ = rnn(h)
            h = self.drop(h)
        return self.out(h)


def glorot_(t: torch.Tensor, fan_in: int, fan_out: int) -> None:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        t.uniform_(-limit, limit)


def seqserve_init(model: CharLM, uniform_emb: bool) -> None:
    """seqserve's initialisers (src/arch/lm.ts) in PyTorch's layout (weights are [out, in])."""
    with torch.no_grad():
        if uniform_emb:
            model.emb.weight.uniform_(-0.05, 0.05)  # Keras' default, seqserve's before 2026-11-29
        else:
            model.emb.weight.normal_(0.0, 1.0)
        for rnn in model.rnns:
            h = rnn.hidden_size
            glorot_(rnn.weight_ih_l0, rnn.input_size, 4 * h)  # Keras kernel [in, 4H]
            glorot_(rnn.weight_hh_l0, h, 4 * h)  # recurrent kernel [H, 4H], Glorot as lm.ts
            rnn.bias_ih_l0.zero_()
            rnn.bias_hh_l0.zero_()
            rnn.bias_ih_l0[h:2 * h] = 1.0  # unitForgetBias; gate order i, f, g, o = Keras i, f, c, o
        glorot_(model.out.weight, model.out.in_features, model.out.out_features)
        model.out.bias.zero_()


def lr_at(meta: dict, step: int) -> float:
    """The same schedule as seqserve's (warm-up (step+1)/warmup, then constant or cosine to a floor)."""
    base = meta['lr']
    warm = meta['warmup_steps']
    lr = base * ((step + 1) / warm if warm > 0 and step < warm else 1.0)
    if meta['lr_schedule'] == 'cosine' and meta['total_steps'] and step >= warm:
        span = max(1, meta['total_steps'] - warm)
        p = min(1.0, (step - warm) / span)
        floor = meta['cosine_floor']
        lr *= floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p))
    return lr


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('dir')
    p.add_argument('--init', choices=['torch', 'seqserve', 'seqserve-uniform-emb'], default='torch')
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.dir, 'meta.json')) as f:
        meta = json.load(f)
    if meta['lr_schedule'] not in ('constant', 'cosine'):
        raise SystemExit(f"lr_schedule {meta['lr_schedule']!r} is not mirrored (constant and cosine are)")
    torch.manual_seed(meta['seed'])
    V, B, T, S = meta['vocab'], meta['batch_size'], meta['seq_len'], meta['steps']
    train = np.fromfile(os.path.join(a.dir, 'train.u16'), dtype='<u2').astype(np.int64).reshape(S, B, T + 1)
    val = np.fromfile(os.path.join(a.dir, 'val.u16'), dtype='<u2').astype(np.int64).reshape(-1, meta['val_len'] + 1)

    model = CharLM(V, meta['embedding_dim'], meta['units'], meta['layers'], meta['dropout'])
    if a.init.startswith('seqserve'):
        seqserve_init(model, uniform_emb=a.init == 'seqserve-uniform-emb')
    opt = torch.optim.Adam(model.parameters(), lr=meta['lr'], betas=(meta['beta1'], meta['beta2']), eps=meta['eps'])
    loss_fn = nn.CrossEntropyLoss()
    clip = meta['clip_norm']
    losses = []
    model.train()
    t0 = time.perf_counter()
    for s in range(S):
        for g in opt.param_groups:
            g['lr'] = lr_at(meta, s)
        w = torch.from_numpy(train[s])
        x, y = w[:, :-1], w[:, 1:]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - t0

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(val), B):
            w = torch.from_numpy(val[i:i + B])
            x, y = w[:, :-1], w[:, 1:]
            total += nn.functional.cross_entropy(model(x).reshape(-1, V), y.reshape(-1), reduction='sum').item()
            count += y.numel()
    tail = losses[-min(100, len(losses)):]
    print(json.dumps({
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'init': a.init,
        'val_nats': total / count,
        'val_tokens': count,
        'train_loss_last': sum(tail) / len(tail),
        'train_seconds': round(seconds, 1),
        'tokens_per_sec': round(S * B * T / seconds),
    }))


if __name__ == '__main__':
    main()
