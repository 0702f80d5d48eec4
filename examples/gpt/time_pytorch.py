#!/usr/bin/env python3
"""Times one training iteration of the gpt example's recipe in PyTorch, to quote beside the
example's own "time per iteration": the architecture of check_pytorch.py (nanoGPT's, no bias,
4 layers, 4 heads, width 128, block 64, vocab 65), batch 12, cross-entropy, zero_grad,
backward, clipping at 1.0 and AdamW with nanoGPT's two groups. Not run by CTest (it times).

Usage: OMP_WAIT_POLICY=passive time_pytorch.py [ITERATIONS]   (default 200; the first 10 are
not counted). Prints the median and the best time per iteration and PyTorch's thread count.
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_pytorch import GPT  # noqa: E402


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    torch.manual_seed(1337)
    model = GPT(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, bias=False)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.99))
    x = torch.randint(0, 65, (12, 64))
    y = torch.randint(0, 65, (12, 64))
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        loss = F.cross_entropy(model(x).view(-1, 65), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        times.append(time.perf_counter() - start)
    times = sorted(times[10:])
    print("PyTorch %s, %d threads: median %.1f ms, best %.1f ms per iteration (%d iterations)"
          % (torch.__version__, torch.get_num_threads(), 1e3 * times[len(times) // 2],
             1e3 * times[0], len(times)))


if __name__ == "__main__":
    main()
