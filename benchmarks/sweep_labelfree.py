"""Label-free samplers against uniform and class-balanced sampling, through the experiment runner (notebook 07).

For every held-in data set and feature type of `labelfree_data.py` (long-tailed Fashion-MNIST at ratios 100 and
10, long-tailed scikit-learn digits, a synthetic long-tailed mixture; SimCLR, EfficientNet-Lite0 and raw-pixel
features) it computes each candidate's weights from the *training features alone* (`compute_cfw`), and then:

- `probe`: a linear probe on the standardised features under uniform sampling, class-balanced sampling (the
  label-aware reference) and every candidate, 3 seeds, one budget; the learning rate is chosen by a grid on the
  validation split under uniform sampling. The batch balance of each sampler (KL improvement, coverage) is
  measured beside it.
- `finetune`: fine-tuning of the SimCLR network (image data sets) under uniform, class-balanced and the candidates
  named with `--candidates` (by default: the reference, the former default, and the best three by validation gain
  in the probe results), weights from the SimCLR features, learning rate chosen on validation as above.
- `report`: the tables, printed and written beside the runs' rows (labelfree_<stage>_gains.csv per setting,
  labelfree_<stage>_ranking.csv per sampler), and each candidate's time to weigh 50,000 x 384 features over the
  former default's (labelfree_costs.csv, measured once; `--remeasure` to redo). Candidates are ranked by their mean *validation* gain over uniform
  sampling; test numbers are reported beside, never used to choose.

Every run is a `run_experiment` folder under --root (resumable: an interrupted sweep continues where it stopped,
finished runs are read back). The per-run rows go to benchmarks/results/labelfree_<stage>.csv, which the CFW
notebook (05) reads to print the table that chose the default.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/labelfree_data.py             # features first (about 1 h, most of it EfficientNet)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sweep_labelfree.py probe       # about 1 h on one CPU core
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sweep_labelfree.py finetune --settings fmnist-lt100-ssl digits-lt-ssl \
        --candidates cfw km200-whole km200-whole-t0.5 km10                      # about 1.5 h (the run notebook 05 reports)
    .venv/bin/python benchmarks/sweep_labelfree.py report
"""
import argparse, json, math, sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).parent))
import labelfree_data as ld
from cfw_nb.cfw import CFWConfig, WeightedSampler, class_balanced_weights, compare_samplers, compute_cfw
from cfw_nb.engine import TrainConfig
from cfw_nb.features import fit_standardizer
from cfw_nb.search import grid_search
from cfw_nb.training import ExperimentConfig, classifier_from_ssl, run_experiment

RESULTS = Path(__file__).parent/'results'
SEEDS = [0, 1, 2]
CFW = CFWConfig.hdbscan()       # CFW's former default: HDBSCAN flat clusters, random chunks of 1024, a second pass at 5
WHOLE = CFW.replace(chunking='whole')
CANDIDATES = {
    'cfw-reference': CFWConfig.reference(),
    'cfw': CFW,
    'cfw-median': CFW.replace(outliers='median'),
    'cfw-own-t0.5': CFW.replace(outliers='own', temper=0.5),
    'cfw-t0.5': CFW.replace(temper=0.5),
    'cfw-mix0.5': CFW.replace(mix=0.5),
    'tree': CFW.replace(scheme='tree'),
    'tree-whole': WHOLE.replace(scheme='tree'),
    'km10': CFW.replace(scheme='kmeans', cluster_size=10, levels=1),
    'km50-whole': WHOLE.replace(scheme='kmeans', cluster_size=50, levels=1),
    'km100-whole': WHOLE.replace(scheme='kmeans', cluster_size=100, levels=1),
    'km200-whole': WHOLE.replace(scheme='kmeans', cluster_size=200, levels=1),          # about 2 clusters per class
    'km400-whole': WHOLE.replace(scheme='kmeans', cluster_size=400, levels=1),
    # the same clusters of ~200 in random chunks of 16384: on these data sets (one chunk) the very weights of km200-whole; linear cost
    'km200-c16k': CFW.replace(scheme='kmeans', cluster_size=200, levels=1, chunk_size=16384),
    'km200-whole-t0.5': WHOLE.replace(scheme='kmeans', cluster_size=200, levels=1, temper=0.5),
    'hkm3x5-whole': WHOLE.replace(scheme='kmeans', cluster_size=10, levels=3, branch=5),
    'hkm3x5-whole-mix0.3': WHOLE.replace(scheme='kmeans', cluster_size=10, levels=3, branch=5, mix=0.3),
    'knn': CFW.replace(scheme='density', neighbours=10, temper=1.0),
    'knn-t2-cap10': CFW.replace(scheme='density', neighbours=10, temper=2.0, cap=10.0),
    'knn-whole': WHOLE.replace(scheme='density', neighbours=10, temper=1.0),
}
REFERENCES = ['uniform', 'class_balanced']
KEEP = ['val_bacc', 'test_bacc', 'test_macro_f1', 'test_few_acc', 'test_medium_acc', 'test_many_acc', 'test_worst_recall']


def settings() -> list:
    "(data set, feature kind) pairs of the sweep."
    return [(d, k) for d in ld.DATASETS for k in ld.FEATURES[d]]


def candidate_weights(name:str, feats:np.ndarray, root:Path) -> dict:
    "Each candidate's weights on the training features, cached in root/weights/<setting>.npz (labels never used)."
    path = root/'weights'/f'{name}.npz'
    have = dict(np.load(path)) if path.is_file() else {}
    todo = [c for c in CANDIDATES if c not in have]
    for c in todo: have[c] = compute_cfw(feats, CANDIDATES[c]).weights
    if todo:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix('.tmp.npz'); np.savez(tmp, **have); tmp.replace(path)
    return {c: have[c] for c in CANDIDATES}


def balance(weights:dict, labels:np.ndarray) -> pd.DataFrame:
    "Batch balance (batches of 128, 3 epochs, seed 0) of uniform, class-balanced and every candidate's sampler (labels read here only)."
    samplers = {'uniform': WeightedSampler(np.ones(len(labels))), 'class_balanced': WeightedSampler(class_balanced_weights(labels)),
                **{c: WeightedSampler(w) for c, w in weights.items()}}
    return compare_samplers(samplers, labels, batch_size=128)[['improvement', 'coverage']]


def recipe(kind:str, n:int) -> ExperimentConfig:
    "The probe (`kind` 'probe') or fine-tuning recipe: at least ~900 optimisation steps (tiny data sets get more epochs)."
    epochs, wd = (30, 1e-4) if kind == 'probe' else (15, 1e-4)
    steps = math.ceil(n / 128)
    epochs = max(epochs, math.ceil((900 if kind == 'probe' else 450) / steps))
    extra = {} if kind == 'probe' else {'lr_scales': {'backbone.': 0.1}}
    return ExperimentConfig(batch_size=128, seeds=SEEDS, train=TrainConfig(epochs=epochs, optimizer='adamw', weight_decay=wd, schedule='cosine',
                                                                             progress=False, **extra))


def run_setting(stage:str, dataset:str, kind:str, root:Path, grid:list, samplers:list) -> pd.DataFrame:
    "One data set x feature kind: the grid (uniform), then every sampler x seed at the chosen rate; one row per run."
    data, feats = ld.load_split_data(dataset), ld.features(dataset, kind)
    name = f"{dataset}-{kind}"
    y = {s: data[s][1] for s in ld.SPLITS}
    weights = candidate_weights(name, feats['train'], root)
    if stage == 'probe':
        mean, scale = fit_standardizer(feats['train'])
        ds = {s: TensorDataset(torch.from_numpy((feats[s] - mean) / scale).float(), y[s]) for s in ld.SPLITS}
        make_model = lambda: nn.Linear(feats['train'].shape[1], len(data['classes']))
    else:
        state, ssl_cfg = ld.ssl_checkpoint(dataset)
        ds = {s: TensorDataset(data[s][0], y[s]) for s in ld.SPLITS}
        make_model = lambda: classifier_from_ssl(state, len(data['classes']), ssl_cfg)
    labels, out = y['train'].numpy(), root/stage/name
    cfg = recipe(stage, len(labels))
    g = grid_search({'lr': grid}, make_model, ds['train'], labels, data['classes'], ds['val'], out/'grid',
                    cfg.replace(samplers=['uniform'], seeds=[0]), verbose=False)
    lr = float(g.lr[0])
    edge = lr in (min(grid), max(grid))
    cfg = cfg.replace(train=cfg.train.replace(lr=lr))
    bal = balance({s: weights[s] for s in samplers if s in weights}, labels)
    rows = []
    for s in REFERENCES + samplers:                       # one folder per sampler: candidates can be added later
        w = {s: weights[s]} if s in weights else None
        e = run_experiment(make_model, ds['train'], labels, data['classes'], out/f'lr{lr:g}'/s, cfg.replace(samplers=[s]),
                           val=ds['val'], test=ds['test'], weights=w, verbose=False, device='cpu')
        t = e.table.assign(dataset=dataset, features=kind, stage=stage, lr=lr, lr_at_grid_edge=edge,
                           config=json.dumps(CANDIDATES[s].to_dict()) if s in CANDIDATES else '',
                           kl_improvement=bal.loc[s, 'improvement'], coverage=bal.loc[s, 'coverage'])
        rows.append(t)
        print(f"{name} {stage} {s:>20}: test bacc {t.test_bacc.mean():.4f}, val bacc {t.val_bacc.mean():.4f}, "
              f"KL improvement {bal.loc[s, 'improvement']:.3f}", flush=True)
    return pd.concat(rows, ignore_index=True)


def gains(table:pd.DataFrame) -> pd.DataFrame:
    "Per setting and sampler: mean scores, paired differences to uniform, and the share of class-balanced's gain recovered."
    key = ['stage', 'dataset', 'features']
    out = []
    for (stage, d, f), g in table.groupby(key, sort=False):
        by = {s: t.set_index('seed') for s, t in g.groupby('sampler')}
        u, cb = by['uniform'], by['class_balanced']
        for s, t in by.items():
            diff = t.test_bacc - u.test_bacc
            out.append({'stage': stage, 'dataset': d, 'features': f, 'sampler': s, 'val_bacc': t.val_bacc.mean(), 'test_bacc': t.test_bacc.mean(),
                        'val_gain': (t.val_bacc - u.val_bacc).mean(), 'test_gain': diff.mean(), 'wins': int((diff > 0).sum()), 'paired': len(diff),
                        'seed_diffs': ' '.join(f'{d:+.3f}' for d in diff.sort_index()),
                        'cb_share': diff.mean() / (cb.test_bacc - u.test_bacc).mean(), 'few_acc': t.test_few_acc.mean(),
                        'worst_recall': t.test_worst_recall.mean(), 'kl_improvement': t.kl_improvement.iloc[0], 'coverage': t.coverage.iloc[0]})
    return pd.DataFrame(out)


def ranking(g:pd.DataFrame) -> pd.DataFrame:
    "Each sampler over all settings: mean validation gain (the ranking), and the test results beside it (few-shot accuracy: settings with few-shot classes)."
    r = g.groupby('sampler').agg(settings=('val_gain', 'size'), val_gain=('val_gain', 'mean'), test_gain=('test_gain', 'mean'),
                                 wins=('wins', 'sum'), paired=('paired', 'sum'), settings_won=('test_gain', lambda x: int((x > 0).sum())),
                                 few_acc=('few_acc', 'mean'), worst_recall=('worst_recall', 'mean'),
                                 kl_improvement=('kl_improvement', 'mean'), coverage=('coverage', 'mean'))
    r.insert(3, 'cb_share', r.test_gain / r.test_gain['class_balanced'])       # of the class-balanced gain, on average over the settings
    return r.sort_values('val_gain', ascending=False)


def costs(n:int=50_000, dim:int=384, repeat:int=3) -> pd.Series:
    "Each candidate's time to weigh n x dim synthetic features (`clustered_features`, one thread), over the former default's (`cfw`) in the same run."
    from cfw_nb.cfw import clustered_features
    import time
    x = clustered_features(n, dim, clusters=200, seed=0)[0]
    secs = {}
    for c, cfg in CANDIDATES.items():
        compute_cfw(x[:2000], cfg)                                     # warm-up: imports, numba compilation
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter(); compute_cfw(x, cfg); runs.append(time.perf_counter() - t0)
        secs[c] = min(runs)
        print(f"cost of {c}: {secs[c]:.2f} s", flush=True)
    return pd.Series(secs) / secs['cfw']


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('stage', choices=['probe', 'finetune', 'report'])
    p.add_argument('--root', type=Path, default=ld.SWEEP/'runs', help='run folders (default: $CFW_NB_SWEEP/runs)')
    p.add_argument('--settings', nargs='*', help='data set-feature names, e.g. fmnist-lt100-ssl (default: all of the stage)')
    p.add_argument('--candidates', nargs='*', help='candidates to run (default: all for the probe; see the docstring for finetune)')
    p.add_argument('--remeasure', action='store_true', help="report: time the candidates again (else labelfree_costs.csv is reused)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    RESULTS.mkdir(exist_ok=True)
    if a.stage == 'report':
        cost_file = RESULTS/'labelfree_costs.csv'   # weighing 50,000 x 384, over the former default (the line: at most 2x)
        cost = pd.read_csv(cost_file, index_col=0).iloc[:, 0] if cost_file.is_file() and not a.remeasure else None
        if cost is None or set(cost.index) != set(CANDIDATES):
            cost = costs().rename('cost_vs_cfw'); cost.to_csv(cost_file)
        for stage in ('probe', 'finetune'):
            f = RESULTS/f'labelfree_{stage}.csv'
            if not f.is_file(): continue
            g = gains(pd.read_csv(f)); r = ranking(g)
            if stage == 'probe':                 # ties in validation gain: the cheaper first
                r = r.assign(cost_vs_cfw=cost.reindex(r.index)).sort_values(['val_gain', 'cost_vs_cfw'], ascending=[False, True], kind='stable')
            r['config'] = [json.dumps(CANDIDATES[s].to_dict()) if s in CANDIDATES else '' for s in r.index]
            g.to_csv(RESULTS/f'labelfree_{stage}_gains.csv', index=False); r.to_csv(RESULTS/f'labelfree_{stage}_ranking.csv')
            print(f"\n== {stage}: per sampler, ranked by mean validation gain over uniform ==")
            print(r.drop(columns='config').round(4).to_string())
        return
    if a.stage == 'probe':
        todo, grid, cands = settings(), [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0], a.candidates or list(CANDIDATES)
    else:
        todo, grid = [(d, 'ssl') for d in ld.DATASETS if 'ssl' in ld.FEATURES[d]], [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
        cands = a.candidates
        if not cands:
            r = ranking(gains(pd.read_csv(RESULTS/'labelfree_probe.csv')))
            best = [s for s in r.index if s in CANDIDATES and s not in ('cfw', 'cfw-reference')][:3]
            cands = ['cfw-reference', 'cfw'] + best
    if a.settings: todo = [(d, k) for d, k in todo if f"{d}-{k}" in a.settings]
    unknown = [c for c in cands if c not in CANDIDATES]
    if unknown: raise SystemExit(f"unknown candidates {unknown}; known: {list(CANDIDATES)}")
    tables = [run_setting(a.stage, d, k, a.root, grid, cands) for d, k in todo]
    path = RESULTS/f'labelfree_{a.stage}.csv'
    new = pd.concat(tables, ignore_index=True)
    if path.is_file():                                   # keep the rows of settings and samplers not rerun now
        old = pd.read_csv(path)
        done = set(zip(new.dataset, new.features, new.sampler))
        old = old[[t not in done for t in zip(old.dataset, old.features, old.sampler)]]
        new = pd.concat([old, new], ignore_index=True)
    cols = ['stage', 'dataset', 'features', 'sampler', 'seed', 'lr', 'lr_at_grid_edge'] + KEEP + ['kl_improvement', 'coverage', 'steps', 'config']
    tmp = path.with_suffix('.tmp'); new.reindex(columns=cols).to_csv(tmp, index=False); tmp.replace(path)
    print(ranking(gains(new)).round(4).to_string())


if __name__ == '__main__': main()
