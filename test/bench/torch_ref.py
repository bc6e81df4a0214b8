#!/usr/bin/env python3
"""PyTorch reference throughput for `npm run bench:engine`: the same MLP and LM the bench trains,
same batch, fp32, AdamW, one JSON object on the last line. Used side by side with Tandem's engine.

    torch_ref.py --model mlp|lm --device cpu|cuda [--batch N] [--steps N] [--threads N]

Prints {"model", "device", "torch", "threads", "batch", "samplesPerSec"} (the bench computes
GFLOP/s with Tandem's own FLOP count, so both sides use one formula). Exit code 3 when the device
is not there (e.g. --device cuda without a CUDA build or GPU).
"""
import argparse
import json
import sys
import time

import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument('--model', choices=['mlp', 'lm'], default='mlp')
p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
p.add_argument('--batch', type=int, default=0)
p.add_argument('--steps', type=int, default=100)
p.add_argument('--threads', type=int, default=1)
a = p.parse_args()

if a.device == 'cuda' and not torch.cuda.is_available():
    print(json.dumps({'error': 'no CUDA device'}))
    sys.exit(3)
torch.manual_seed(0)
torch.set_num_threads(a.threads)
dev = torch.device(a.device)


class Block(nn.Module):
    """Pre-norm GPT block: causal self-attention and a GELU MLP, as Tandem's transformer."""

    def __init__(self, d, heads, ratio):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, ratio * d)
        self.out = nn.Linear(ratio * d, d)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        shape = (b, t, self.heads, d // self.heads)
        q, k, v = (z.view(shape).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / (d // self.heads) ** 0.5
        att = att.masked_fill(mask[:t, :t], float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.out(nn.functional.gelu(self.fc(self.ln2(x))))


class LM(nn.Module):
    def __init__(self, vocab=256, context=64, d=128, heads=4, layers=2, ratio=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads, ratio) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)
        self.register_buffer('mask', torch.triu(torch.ones(context, context, dtype=torch.bool), 1))

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        for blk in self.blocks:
            x = blk(x, self.mask)
        return self.head(self.ln(x))


if a.model == 'mlp':
    batch = a.batch or 256
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(dev)
    x = torch.rand(batch, 784, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    loss_of = lambda: nn.functional.cross_entropy(model(x), y)
else:
    batch = a.batch or 16
    model = LM().to(dev)
    ids = torch.randint(0, 256, (batch, 65), device=dev)
    loss_of = lambda: nn.functional.cross_entropy(
        model(ids[:, :-1]).reshape(-1, 256), ids[:, 1:].reshape(-1))

opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)


def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_of()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss


for _ in range(3):
    step()
if a.device == 'cuda':
    torch.cuda.synchronize()
t0 = time.perf_counter()
for _ in range(a.steps):
    loss = step()
loss.item()
if a.device == 'cuda':
    torch.cuda.synchronize()
dt = time.perf_counter() - t0
print(json.dumps({'model': a.model, 'device': a.device, 'torch': torch.__version__,
                  'threads': a.threads, 'batch': batch,
                  'samplesPerSec': round(a.steps * batch / dt, 1)}))
