#!/usr/bin/env python3
"""Loads a checkpoint of the gpt example into nanoGPT's architecture written in PyTorch and
checks that PyTorch's logits and loss on a fixed batch equal xgrad's.

Usage: check_pytorch.py CHECKPOINT CHECK
  CHECKPOINT  a file the example wrote with --save: the model's tensors under "model." with
              nanoGPT's names (transformer.wte.weight, ..., lm_head.weight), the optimizer's
              under "optimizer.", the architecture in the metadata (gpt.n_layer, ...).
  CHECK       a file the example wrote with --export-check: x and y (Int64 [n, T]), the logits
              xgrad computed for x and the loss against y.

Debian 12 has no safetensors package, so the files are read here with json and struct. The model
below is this project's own code, following nanoGPT's model.py (karpathy/nanoGPT): token and
position embeddings, blocks of LayerNorm -> causal self-attention -> residual and LayerNorm ->
MLP (4x, exact GELU) -> residual, a final LayerNorm, and lm_head tied to the token embedding.
PyTorch 1.13 has no scaled_dot_product_attention and no LayerNorm without a bias, so both are
written from their formulas. Exits non-zero when a value differs beyond float32 rounding.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

DTYPES = {"F32": (torch.float32, 4, "f"), "F64": (torch.float64, 8, "d"), "I64": (torch.int64, 8, "q")}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    metadata = header.pop("__metadata__", {})
    base = 8 + header_length
    tensors = {}
    for name, info in header.items():
        dtype, size, code = DTYPES[info["dtype"]]
        start, end = info["data_offsets"]
        count = (end - start) // size
        values = struct.unpack("<%d%s" % (count, code), data[base + start : base + end])
        tensors[name] = torch.tensor(values, dtype=dtype).reshape(info["shape"])
    return tensors, metadata


class LayerNorm(torch.nn.Module):
    def __init__(self, n, bias):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.bias = torch.nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(torch.nn.Module):
    def __init__(self, n_embd, n_head, bias):
        super().__init__()
        self.c_attn = torch.nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = torch.nn.Linear(n_embd, n_embd, bias=bias)
        self.n_head = n_head

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // self.n_head)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        weights = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = (weights @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(torch.nn.Module):
    def __init__(self, n_embd, n_head, bias):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias)
        self.attn = CausalSelfAttention(n_embd, n_head, bias)
        self.ln_2 = LayerNorm(n_embd, bias)
        self.mlp = torch.nn.ModuleDict(
            dict(
                c_fc=torch.nn.Linear(n_embd, 4 * n_embd, bias=bias),
                c_proj=torch.nn.Linear(4 * n_embd, n_embd, bias=bias),
            )
        )

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class GPT(torch.nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, bias):
        super().__init__()
        self.transformer = torch.nn.ModuleDict(
            dict(
                wte=torch.nn.Embedding(vocab_size, n_embd),
                wpe=torch.nn.Embedding(block_size, n_embd),
                h=torch.nn.ModuleList(Block(n_embd, n_head, bias) for _ in range(n_layer)),
                ln_f=LayerNorm(n_embd, bias),
            )
        )
        self.lm_head = torch.nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied, as nanoGPT

    def forward(self, idx):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    checkpoint, metadata = read_safetensors(sys.argv[1])
    check, _ = read_safetensors(sys.argv[2])
    state = {k[len("model.") :]: v for k, v in checkpoint.items() if k.startswith("model.")}
    model = GPT(
        vocab_size=len(metadata["gpt.vocab"]),
        block_size=int(metadata["gpt.block_size"]),
        n_layer=int(metadata["gpt.n_layer"]),
        n_head=int(metadata["gpt.n_head"]),
        n_embd=int(metadata["gpt.n_embd"]),
        bias=metadata["gpt.bias"] == "1",
    )
    # Every name of the model is in the checkpoint (the tied weight under both of its names,
    # as PyTorch's state_dict lists it), and nothing else: strict loading.
    model.load_state_dict(state, strict=True)
    if not torch.equal(state["transformer.wte.weight"], state["lm_head.weight"]):
        sys.exit("the tied weights differ in the checkpoint")
    model.eval()
    with torch.no_grad():
        logits = model(check["x"])
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), check["y"].view(-1))
    logit_error = (logits - check["logits"]).abs().max().item()
    loss_error = abs(loss.item() - check["loss"].item())
    print(
        "PyTorch %s: %d parameters, loss %.6f (xgrad %.6f), largest logit difference %.2e"
        % (torch.__version__, sum(p.numel() for p in model.parameters()), loss.item(),
           check["loss"].item(), logit_error)
    )
    # float32 sums over widths of a few hundred: differences of a few 1e-6 are rounding.
    if logit_error > 1e-4 or loss_error > 1e-5:
        sys.exit("xgrad's logits or loss differ from PyTorch's")


if __name__ == "__main__":
    main()
