"""CFW's distributed weighted sampler under torchrun (2 CPU ranks, gloo), inside the training engine.

Each rank records the sample indices it trained on in each epoch (the targets are the indices) and writes them to
OUT/sampler-rank<r>.json.

    torchrun --standalone --nproc_per_node 2 tests/ddp_cfw_sampler.py --out DIR [--config JSON]

The weights are CFWConfig(chunk_size=300) updated with --config (JSON), computed on every rank.
"""
import argparse, json
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from cfw_nb.cfw import CFWConfig, DistributedWeightedSampler, clustered_features, compute_cfw
from cfw_nb.engine import Trainer, TrainConfig, dist_info, init_distributed, make_loader
from ddp_exit import finish  # tests/ is the script folder, first on sys.path

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--config', default='{}', help='CFWConfig fields as JSON')
a = p.parse_args()
device = init_distributed()
rank, world = dist_info()
x, _ = clustered_features(600, 16, clusters=8, seed=0)
weights = compute_cfw(x, CFWConfig.from_dict({'chunk_size': 300, **json.loads(a.config)})).weights   # every rank computes the same weights
ds = TensorDataset(torch.from_numpy(x), torch.arange(len(x)))
seen = []
def loss(out, idx):
    seen[-1].extend(idx.tolist())
    return out.pow(2).mean()
class Epochs:                                                        # a new list of indices at each epoch start
    def on_epoch_start(self, t): seen.append([])
sampler = DistributedWeightedSampler(weights, num_samples=501, seed=7)
torch.manual_seed(0)
t = Trainer(nn.Linear(16, 1), loss, make_loader(ds, 25, sampler=sampler), cfg=TrainConfig(epochs=2, progress=False),
            callbacks=[Epochs()], device=device)
t.fit()
try:                                                                 # ranks that disagree on the draw are refused, on every rank
    DistributedWeightedSampler(weights, num_samples=501, seed=7 + rank); mismatch = None
except ValueError as e: mismatch = str(e)
Path(a.out, f'sampler-rank{rank}.json').write_text(json.dumps({'rank': rank, 'world': world, 'seen': seen, 'weights': weights.tolist(),
                                                               'mismatch': mismatch}))
finish()
