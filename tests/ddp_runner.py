"""run_experiment under torchrun (2 CPU ranks, gloo), or as one process on the same global batches.

    torchrun --standalone --nproc_per_node 2 tests/ddp_runner.py --out DIR     # batch 32 per rank
    python tests/ddp_runner.py --out DIR --single                               # one process, batch 64

Weighted samplers draw one global sample per epoch; each rank takes every other draw, so the two ranks' batches
together are the single process's batches. Each process writes DIR/table-rank<r>.json.
"""
import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from cfw_nb.engine import TrainConfig, dist_info, init_distributed
from cfw_nb.ingestion import load_digits_set
from cfw_nb.training import ExperimentConfig, run_experiment
from ddp_exit import finish  # tests/ is the script folder, first on sys.path

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--single', action='store_true')
a = p.parse_args()
device = torch.device('cpu') if a.single else init_distributed()
rank, world = dist_info()
torch.set_num_threads(1)

digits = load_digits_set()
x, y = digits.split('train').to_tensors(); xt, yt = digits.split('test').to_tensors()
train = TensorDataset(x[:1024], y[:1024])
half = len(yt) // 2
val, test = TensorDataset(xt[:half], yt[:half]), TensorDataset(xt[half:], yt[half:])
weights = {'cfw': np.random.default_rng(0).random(1024) + 0.1}
model = lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
cfg = ExperimentConfig(samplers=['cfw', 'class_balanced'], seeds=[0], batch_size=64 if a.single else 32,
                       train=TrainConfig(epochs=3, optimizer='sgd', lr=0.05, progress=False))
exp = run_experiment(model, train, y[:1024].numpy(), digits.classes, Path(a.out)/'exp', cfg, val=val, test=test, weights=weights,
                     device=device, verbose=False)
Path(a.out, f"table-rank{rank}.json").write_text(exp.table.drop(columns='train_seconds').to_json(orient='records'))
if not a.single: finish()
