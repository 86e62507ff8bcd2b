"""Edge cases of the engine under torchrun (2 CPU ranks, gloo); each rank writes what it saw to OUT/<case>-rank<r>.json.

    torchrun --standalone --nproc_per_node 2 tests/ddp_edge.py --out DIR --case tiny-val|skip-accum|rundir-rank0
"""
import argparse, json
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from cfw_nb.engine import Trainer, TrainConfig, dist_info, init_distributed, make_loader
from ddp_exit import finish  # tests/ is the script folder, first on sys.path

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--case', required=True, choices=['tiny-val', 'skip-accum', 'rundir-rank0'])
a = p.parse_args()
device = init_distributed()
rank, world = dist_info()
g = torch.Generator().manual_seed(0)
X, Y = torch.randn(128, 20, generator=g), torch.randint(0, 3, (128,), generator=g)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
result = {'rank': rank}

if a.case == 'tiny-val':  # one validation sample: rank 1 has no validation batch at all
    t = Trainer(model, nn.functional.cross_entropy, make_loader(TensorDataset(X, Y), 16), make_loader(TensorDataset(X[:1], Y[:1]), 4, train=False),
                TrainConfig(epochs=2), metrics={'n': lambda o, y: len(y)}, device=device)
    h = t.fit()
    result['val_n'] = h['val_n'].tolist(); result['val_loss'] = h['val_loss'].tolist()
elif a.case == 'skip-accum':  # the last micro-batch of a window is NaN on every rank and is skipped
    calls = {'n': 0}
    def loss_fn(out, y):
        calls['n'] += 1
        loss = nn.functional.cross_entropy(out, y)
        return loss * float('nan') if calls['n'] % 4 == 2 else loss
    t = Trainer(model, loss_fn, make_loader(TensorDataset(X, Y), 8), cfg=TrainConfig(epochs=1, grad_accum=2, nonfinite='skip', optimizer='sgd', lr=0.1), device=device)
    t.fit()
    result['skipped'] = t.skipped
    result['weights'] = [p.detach().flatten().tolist() for p in t.model.parameters()]
else:  # run_dir given on rank 0 only: a clear error on every rank instead of a hang
    try:
        Trainer(model, nn.functional.cross_entropy, make_loader(TensorDataset(X, Y), 16), cfg=TrainConfig(epochs=1), device=device,
                run_dir=Path(a.out)/'run' if rank == 0 else None)
        result['error'] = None
    except ValueError as e: result['error'] = str(e)
Path(a.out, f"{a.case}-rank{rank}.json").write_text(json.dumps(result))
finish()
