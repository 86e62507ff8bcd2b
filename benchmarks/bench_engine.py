"""Time per optimizer step of the engine's Trainer against a bare hand-written PyTorch loop.

Same model, data, batch size, optimizer and device, measured in the same run, interleaved (hand, engine,
hand, engine, ...) so that machine noise hits both alike. Every step is timed (the time between the ends
of consecutive optimizer steps, data loading included); the median step of each run is compared with the
adjacent run of the other loop, and the median of those paired ratios is reported, which shrugs off the
bursts and drifts of noise a shared machine adds. The ratio engine / hand is what matters (target: at
most 1.05). The engine is timed through an `on_step_end` callback, so its figure includes the callback.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_engine.py [--model cnn|mlp] [--repeats 7] [--steps 150]
"""
import argparse, statistics, time

import torch
from torch import nn
from torch.utils.data import TensorDataset

from cfw_nb.engine import Trainer, TrainConfig, make_loader
from cfw_nb.ingestion import load_fashion_mnist


def build(kind):
    torch.manual_seed(0)
    if kind == 'mlp': return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def hand_loop(model, loader, epochs):
    "The bare loop: forward, loss, zero_grad, backward, step; returns the time of each step."
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)  # the engine's default: no weight decay
    model.train()
    stamps = [time.perf_counter()]
    for _ in range(epochs):
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            stamps.append(time.perf_counter())
    return [b - a for a, b in zip(stamps, stamps[1:])]


class StepTimer:
    "Engine callback: the time of each optimizer step."
    def on_fit_start(self, trainer): self.stamps = [time.perf_counter()]
    def on_step_end(self, trainer, logs): self.stamps.append(time.perf_counter())


def engine_loop(model, loader, epochs):
    timer = StepTimer()
    t = Trainer(model, nn.functional.cross_entropy, loader, cfg=TrainConfig(epochs=epochs, optimizer='adamw', lr=1e-3, schedule='constant', progress=False),
                device='cpu', callbacks=[timer])
    t.fit()
    return [b - a for a, b in zip(timer.stamps, timer.stamps[1:])]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', choices=['cnn', 'mlp'], default='cnn')
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--steps', type=int, default=150, help='optimizer steps per timed run (one epoch)')
    p.add_argument('--repeats', type=int, default=7)
    a = p.parse_args()
    X, Y = load_fashion_mnist().split('train').to_tensors()
    n = a.steps * a.batch_size
    ds = TensorDataset(X[:n], Y[:n])
    steps, pairs = {'hand': [], 'engine': []}, []
    hand_loop(build(a.model), make_loader(ds, a.batch_size, device=torch.device('cpu')), 1)  # warm-up
    for _ in range(a.repeats):
        run = {}
        for name, fn in (('hand', hand_loop), ('engine', engine_loop)):
            run[name] = fn(build(a.model), make_loader(ds, a.batch_size, device=torch.device('cpu')), 1)[1:]  # first step: warm-up
            steps[name] += run[name]
        pairs.append(statistics.median(run['engine']) / statistics.median(run['hand']))
    med = {k: statistics.median(v) for k, v in steps.items()}
    q = {k: statistics.quantiles(v, n=4) for k, v in steps.items()}
    print(f"model={a.model} batch={a.batch_size} steps/run={a.steps} runs={a.repeats} each, interleaved; threads={torch.get_num_threads()}")
    for k, label in (('hand', 'hand-written loop'), ('engine', 'engine Trainer')):
        print(f"{label:18s} median {med[k] * 1e3:.3f} ms/step (quartiles {q[k][0] * 1e3:.3f} .. {q[k][2] * 1e3:.3f}, {len(steps[k])} steps)")
    print(f"ratio engine / hand per adjacent pair of runs: {', '.join(f'{r:.3f}' for r in pairs)}")
    print(f"ratio engine / hand: {statistics.median(pairs):.3f} (median over pairs; {med['engine'] / med['hand']:.3f} over all steps)")

if __name__ == '__main__': main()
