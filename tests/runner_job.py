"""A small sampler comparison with `run_experiment`, optionally killed (SIGKILL) at the start of one run's epoch.

    python tests/runner_job.py --out DIR                          # run (or continue) the experiment in DIR/exp
    python tests/runner_job.py --out DIR --kill-at cfw-seed1:2    # die at the start of epoch 3 of run cfw-seed1

Writes DIR/table.json (the results table) when the experiment completes; used by test_runner.py.
"""
import argparse, os, signal
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from cfw_nb.engine import TrainConfig
from cfw_nb.ingestion import load_digits_set
from cfw_nb.training import ExperimentConfig, run_experiment

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--kill-at', help='RUN:EPOCH, e.g. cfw-seed1:2 (epochs counted from 0)')
a = p.parse_args()
torch.set_num_threads(1)

digits = load_digits_set()
tr, te = digits.split('train'), digits.split('test')
x, y = tr.to_tensors(); xt, yt = te.to_tensors()
half = len(yt) // 2
train, val, test = TensorDataset(x, y), TensorDataset(xt[:half], yt[:half]), TensorDataset(xt[half:], yt[half:])
weights = {'cfw': np.random.default_rng(0).random(len(y)) + 0.1}   # stands in for CFW's weights: any label-free weights


class KillAt:
    "Die like a killed process (no cleanup, no exception handling) at the start of one run's epoch."
    def __init__(self, spec):
        self.run, self.epoch = (spec.split(':')[0], int(spec.split(':')[1])) if spec else (None, None)
    def on_epoch_start(self, trainer):
        if trainer.run_dir.name == self.run and trainer.epoch == self.epoch: os.kill(os.getpid(), signal.SIGKILL)


def model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))


cfg = ExperimentConfig(seeds=[0, 1], batch_size=64, train=TrainConfig(epochs=4, optimizer='sgd', lr=0.05, weight_decay=1e-4, progress=False))
exp = run_experiment(model, train, y.numpy(), digits.classes, Path(a.out)/'exp', cfg, val=val, test=test, weights=weights,
                     callbacks=[KillAt(a.kill_at)], verbose=False)
(Path(a.out)/'table.json').write_text(exp.table.drop(columns='train_seconds').to_json(orient='records'))
