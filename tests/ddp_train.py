"""Train a small model with the engine, under torchrun (DDP, gloo) or as one process on the same global batches.

    torchrun --standalone --nproc_per_node 2 tests/ddp_train.py --out DIR            # 2 ranks, batch 32 each
    python tests/ddp_train.py --out DIR --single                                     # 1 process, batch 64

Each process writes DIR/result-rank<r>.json (history, final weight checksum and weights) for test_ddp.py.
"""
import argparse, json
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DistributedSampler, TensorDataset

from cfw_nb.engine import Trainer, TrainConfig, dist_info, init_distributed, make_loader
from cfw_nb.ingestion import load_fashion_mnist
from ddp_exit import finish  # tests/ is the script folder, first on sys.path

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--single', action='store_true')
p.add_argument('--per-rank-batch', type=int, default=32)
a = p.parse_args()
device = torch.device('cpu') if a.single else init_distributed()
rank, world = dist_info()

fm = load_fashion_mnist()
X, Y = fm.split('train').to_tensors()
train = TensorDataset(X[:1024].flatten(1), Y[:1024])
val = TensorDataset(X[-300:].flatten(1), Y[-300:])
if a.single:  # the permutation DistributedSampler draws, as one replica: the same global batches as the 2 ranks together
    batch = 2 * a.per_rank_batch
    train_dl = make_loader(train, batch, sampler=DistributedSampler(train, 1, 0, shuffle=True, seed=7), device=device)
else:
    batch = a.per_rank_batch
    train_dl = make_loader(train, batch, seed=7, device=device)
val_dl = make_loader(val, 100, train=False, device=device)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
acc = lambda out, y: (out.argmax(1) == y).float().mean().item()
t = Trainer(model, nn.functional.cross_entropy, train_dl, val_dl, TrainConfig(epochs=3, optimizer='sgd', lr=0.1, weight_decay=1e-4),
            metrics={'acc': acc, 'n': lambda out, y: len(y)}, run_dir=Path(a.out)/'run', device=device)
h = t.fit()
res = {'rank': rank, 'world': world, 'history': h.drop(columns='seconds').to_dict('list'),
       'weights': [p.detach().flatten().tolist() for p in t.model.parameters()]}
Path(a.out, f"result-{'single' if a.single else 'ddp'}-rank{rank}.json").write_text(json.dumps(res))
if not a.single: finish()
