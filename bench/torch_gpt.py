"""PyTorch counterpart of bench/gpt-quality.ts (hand-run measurement, not a test).

The same decoder-only Transformer as src/arch/transformer.ts (nanoGPT's model.py with biases):
token + learned position embeddings, pre-LayerNorm blocks (causal multi-head self-attention, GELU
MLP 4x wide), final LayerNorm, output tied to the token embedding; GPT-2 initialisation (N(0, 0.02),
residual projections N(0, 0.02/sqrt(2L))). Trained on EXACTLY the batches seqserve trained on, in
the same order, with the same optimisation: Adam (lr, betas, eps from meta.json), global-norm
gradient clipping, the same warm-up + cosine schedule, and decoupled weight decay applied as
seqserve applies it (after the Adam step, w *= 1 - lr * wd, on matrices only: embeddings and
kernels). Reports the mean NLL per token over the same held-out windows.

Input: a directory written by bench/gpt-quality.ts:
  meta.json   {"vocab", "layers", "heads", "width", "context", "dropout", "batch_size", "steps", "lr",
               "beta1", "beta2", "eps", "clip_norm", "weight_decay", "warmup_steps", "total_steps",
               "cosine_floor", "seed", "val_len"}
  train.u16   uint16 [steps, batch_size, context + 1]; val.u16 uint16 [rows, val_len + 1]
Prints ONE JSON object: {"torch", "threads", "val_nats", "val_tokens", "train_loss_last",
  "train_seconds", "tokens_per_sec", "decode": {...}} (decode only with --decode).

  /usr/bin/python3 bench/torch_gpt.py DIR [--threads 1] [--decode]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C: int, H: int, p: float):
        super().__init__()
        self.H = H
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.c_fc = nn.Linear(C, 4 * C)
        self.m_proj = nn.Linear(4 * C, C)
        self.drop = nn.Dropout(p)

    def attend(self, x, past=None):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        heads = lambda t: t.view(B, T, self.H, C // self.H).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        if past is not None:
            k = torch.cat([past[0], k], 2)
            v = torch.cat([past[1], v], 2)
        Tk = k.shape[2]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.H)
        # causal over the new positions, everything cached is visible
        mask = torch.ones(T, Tk, dtype=torch.bool).tril(Tk - T)
        att = att.masked_fill(~mask, -1e9)
        att = self.drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.drop(self.c_proj(y)), (k, v)

    def forward(self, x, past=None):
        a, kv = self.attend(x, past)
        x = x + a
        x = x + self.drop(self.m_proj(F.gelu(self.c_fc(self.ln_2(x)))))
        return x, kv


class GPT(nn.Module):
    def __init__(self, V: int, L: int, H: int, C: int, N: int, p: float):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(N, C)
        self.drop = nn.Dropout(p)
        self.blocks = nn.ModuleList([Block(C, H, p) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)
        for name, w in self.named_parameters():
            if name.endswith('c_proj.weight') or name.endswith('m_proj.weight'):
                nn.init.normal_(w, 0.0, 0.02 / math.sqrt(2 * L))
            elif w.dim() == 2:
                nn.init.normal_(w, 0.0, 0.02)
            elif name.endswith('bias'):
                nn.init.zeros_(w)

    def forward(self, idx, past=None, start=0):
        B, T = idx.shape
        pos = torch.arange(start, start + T)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        kvs = []
        for i, b in enumerate(self.blocks):
            x, kv = b(x, None if past is None else past[i])
            kvs.append(kv)
        return self.ln_f(x) @ self.wte.weight.t(), kvs


def lr_at(meta: dict, step: int) -> float:
    """seqserve's schedule (src/train/schedule.ts): warm-up (step+1)/warmup, then cosine to a floor."""
    base, warm = meta['lr'], meta['warmup_steps']
    lr = base * ((step + 1) / warm if warm > 0 and step < warm else 1.0)
    if step >= warm:
        span = max(1, meta['total_steps'] - warm)
        p = min(1.0, (step - warm) / span)
        floor = meta['cosine_floor']
        lr *= floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p))
    return lr


@torch.no_grad()
def decode_bench(model: GPT, meta: dict) -> dict:
    """Greedy decoding tokens/s: KV cache vs re-running the context per token; batch 1 and 32."""
    model.eval()
    N = meta['context']
    out = {}
    for B in (1, 32):
        idx = torch.randint(4, meta['vocab'], (B, 8))
        steps = N - 8
        t0 = time.perf_counter()
        logits, past = model(idx)
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        for s in range(steps - 1):
            logits, past = model(nxt, past, start=8 + s)
            nxt = logits[:, -1].argmax(-1, keepdim=True)
        cached = B * steps / (time.perf_counter() - t0)
        seq = idx
        t0 = time.perf_counter()
        for s in range(steps):
            logits, _ = model(seq)
            seq = torch.cat([seq, logits[:, -1].argmax(-1, keepdim=True)], 1)
        rerun = B * steps / (time.perf_counter() - t0)
        out[f'batch{B}'] = {'kv_cache_tokens_per_sec': round(cached), 'rerun_tokens_per_sec': round(rerun)}
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('dir')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--decode', action='store_true')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.dir, 'meta.json')) as f:
        meta = json.load(f)
    torch.manual_seed(meta['seed'])
    V, B, T, S = meta['vocab'], meta['batch_size'], meta['context'], meta['steps']
    train = np.fromfile(os.path.join(a.dir, 'train.u16'), dtype='<u2').astype(np.int64).reshape(S, B, T + 1)
    val = np.fromfile(os.path.join(a.dir, 'val.u16'), dtype='<u2').astype(np.int64).reshape(-1, meta['val_len'] + 1)
    model = GPT(V, meta['layers'], meta['heads'], meta['width'], T, meta['dropout'])
    opt = torch.optim.Adam(model.parameters(), lr=meta['lr'], betas=(meta['beta1'], meta['beta2']), eps=meta['eps'])
    matrices = [w for w in model.parameters() if w.dim() >= 2]
    losses = []
    model.train()
    t0 = time.perf_counter()
    for s in range(S):
        lr = lr_at(meta, s)
        for g in opt.param_groups:
            g['lr'] = lr
        w = torch.from_numpy(train[s])
        x, y = w[:, :-1], w[:, 1:]
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        loss.backward()
        if meta['clip_norm']:
            norm = torch.sqrt(sum((g.grad ** 2).sum() for g in model.parameters()))
            if norm > meta['clip_norm']:
                for g in model.parameters():
                    g.grad.mul_(meta['clip_norm'] / norm)
        opt.step()
        if meta['weight_decay'] > 0:
            with torch.no_grad():
                for m in matrices:
                    m.mul_(1 - lr * meta['weight_decay'])
        losses.append(loss.item())
    seconds = time.perf_counter() - t0

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(val), B):
            w = torch.from_numpy(val[i:i + B])
            x, y = w[:, :-1], w[:, 1:]
            logits, _ = model(x)
            total += F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction='sum').item()
            count += y.numel()
    tail = losses[-min(100, len(losses)):]
    result = {
        'torch': torch.__version__, 'threads': torch.get_num_threads(), 'val_nats': total / count, 'val_tokens': count,
        'train_loss_last': sum(tail) / len(tail), 'train_seconds': round(seconds, 1), 'tokens_per_sec': round(S * B * T / seconds),
    }
    if a.decode:
        result['decode'] = decode_bench(model, meta)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
