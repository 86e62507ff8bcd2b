"""The analysis report of a comparison: its cost, and the embedding map's against umap-learn's own way, measured in one run.

1. An experiment folder like a real comparison's: 3 samplers (uniform, label-free weights, class-balanced) x 3 seeds x
   `--epochs` epochs (30) of a linear classifier on `--n` (20,000) synthetic long-tailed 64-D features of 10 classes, with
   validation and test splits, so every run has a history and a validation confusion matrix per epoch. (Made once per
   run of this script, not timed.)
2. `write_report` on it, with the CFW result and the training features (so the embedding map is drawn on all `--n` points,
   the issue's limit of 20,000), timed end to end in a fresh process (imports included: a user's first call), and its parts:
   reading the folder, the map, the rest.
3. The map against a baseline measured in the same run: umap-learn's default way on the same points (`umap.UMAP(metric=
   'cosine')`, its own approximate nearest-neighbour search, NN-descent) against `embedding_map` (an exact cosine k-NN graph
   from blocked matrix products, then the same UMAP layout). Each in a fresh process (numba's compilation cache warm: the
   first of all runs is a warm-up), `--repeat` times, median seconds and the ratio ours / umap-learn.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_report.py [--n 20000] [--epochs 30] [--repeat 3]
    .venv/bin/python benchmarks/bench_report.py --quick        # smoke run: 3,000 points, 5 epochs, 1 repeat
"""
import os
os.environ.setdefault('OMP_NUM_THREADS', '1')
import argparse, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve()


def make_experiment(root:Path, n:int, epochs:int) -> None:
    "The experiment folder, the CFW result (a weights folder) and the features (features.npy) in root."
    import numpy as np
    import torch
    from torch import nn
    from torch.utils.data import TensorDataset
    from cfw_nb.cfw import CFWConfig, clustered_features, compute_cfw, save_weights
    from cfw_nb.engine import TrainConfig
    from cfw_nb.training import ExperimentConfig, run_experiment
    rng = np.random.default_rng(0)
    x, mode = clustered_features(3 * n, 64, clusters=30, seed=0)
    y = mode % 10                                                      # 3 modes per class; noise (-1) goes to class 9
    keep = rng.random(len(y)) < 0.1 ** (y / 9)                         # a long tail: class 9 keeps a tenth of what class 0 keeps
    xt, yt = x[keep][:n], y[keep][:n]
    xv, yv = x[~keep][:2000], y[~keep][:2000]
    xs, ys = x[~keep][2000:4000], y[~keep][2000:4000]
    cfw = compute_cfw(xt, CFWConfig())
    save_weights(cfw, root/'cfw')
    np.save(root/'features.npy', xt)
    ds = lambda a, b: TensorDataset(torch.from_numpy(a), torch.from_numpy(b).long())
    cfg = ExperimentConfig(samplers=['uniform', 'cfw', 'class_balanced'], seeds=[0, 1, 2], batch_size=512,
                           train=TrainConfig(epochs=epochs, optimizer='sgd', lr=0.05, progress=False))
    run_experiment(lambda: nn.Linear(64, 10), ds(xt, yt), yt, [f"c{i}" for i in range(10)], root/'exp', cfg, val=ds(xv, yv), test=ds(xs, ys),
                   weights={'cfw': cfw.weights}, verbose=False, device='cpu')


def child(args) -> None:
    "One measurement in this (fresh) process; prints one JSON line."
    t0 = time.perf_counter()
    import numpy as np
    root = Path(args.root)
    if args.child == 'report':
        from cfw_nb import analysis
        from cfw_nb.cfw import load_weights
        t_import = time.perf_counter()
        exp = analysis.load_experiment(root/'exp')
        t_read = time.perf_counter()
        real = analysis.embedding_map
        spent = {}
        def timed(*a, **k):
            s = time.perf_counter(); m = real(*a, **k); spent['map'] = time.perf_counter() - s; return m
        analysis.embedding_map = timed                              # write_report looks it up in the module
        out = Path(tempfile.mkdtemp())/'report'
        analysis.write_report(exp, out, cfw=load_weights(root/'cfw'), features=np.load(root/'features.npy'))
        t_end = time.perf_counter()
        print(json.dumps({'total': t_end - t0, 'import': t_import - t0, 'read': t_read - t_import, 'map': spent['map'],
                          'report_rest': t_end - t_read - spent['map'], 'html_mb': (out/'report.html').stat().st_size / 1e6,
                          'figures': len(list((out/'figures').iterdir()))}))
    else:
        x = np.load(root/'features.npy')
        if args.child == 'ours':
            from cfw_nb.analysis import embedding_map
            s = time.perf_counter(); embedding_map(x, cap=len(x), seed=0)
        else:
            import umap, warnings
            warnings.filterwarnings('ignore')
            s = time.perf_counter(); umap.UMAP(n_neighbors=15, min_dist=0.1, metric='cosine', random_state=0).fit_transform(x)
        print(json.dumps({'seconds': time.perf_counter() - s}))


def run_child(kind:str, root:Path) -> dict:
    r = subprocess.run([sys.executable, str(HERE), '--child', kind, '--root', str(root)], capture_output=True, text=True)
    if r.returncode != 0: raise SystemExit(f"{kind} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--n', type=int, default=20000, help='training samples (and points of the map)')
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--repeat', type=int, default=3)
    p.add_argument('--quick', action='store_true', help='3,000 points, 5 epochs, 1 repeat')
    p.add_argument('--child', choices=['report', 'ours', 'umap'], help=argparse.SUPPRESS)
    p.add_argument('--root', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: return child(a)
    if a.quick: a.n, a.epochs, a.repeat = 3000, 5, 1
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        t = time.perf_counter(); make_experiment(root, a.n, a.epochs)
        print(f"experiment: 3 samplers x 3 seeds x {a.epochs} epochs, {a.n:,} training samples x 64 ({time.perf_counter() - t:.0f} s to make, not timed)")
        run_child('ours', root); run_child('umap', root)          # warm numba's on-disk caches
        reports = [run_child('report', root) for _ in range(a.repeat)]
        ours, base = [], []
        for _ in range(a.repeat):                                  # alternate, so drifts of the machine hit both
            ours.append(run_child('ours', root)['seconds']); base.append(run_child('umap', root)['seconds'])
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    print(f"\nwrite_report, fresh process ({a.repeat} run(s), median seconds): total {med(reports, 'total'):.1f} "
          f"(imports {med(reports, 'import'):.1f}, reading the folder {med(reports, 'read'):.1f}, embedding map of {a.n:,} points "
          f"{med(reports, 'map'):.1f}, figures, tables and files {med(reports, 'report_rest'):.1f}); "
          f"{reports[0]['figures']} figures, report.html {reports[0]['html_mb']:.2f} MB")
    print(f"embedding map of {a.n:,} x 64 (median of {a.repeat}): umap-learn's own way {statistics.median(base):.1f} s, "
          f"embedding_map {statistics.median(ours):.1f} s, ratio ours / umap-learn {statistics.median(ours) / statistics.median(base):.2f}x")


if __name__ == '__main__': main()
