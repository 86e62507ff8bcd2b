"""The experiment runner and the metrics against bare baselines, measured in the same run.

1. Runner: time per optimizer step of `cfw_nb.training.run_experiment` (one sampler, one seed, no validation or test,
   a fresh temporary folder each run) against a bare hand-written PyTorch loop on the same model and data: a DataLoader
   with the same batch size and shuffling (or the same `WeightedSampler` for 'class_balanced'), `model.train()`, forward,
   `F.cross_entropy`, backward, AdamW (same lr and weight decay) and a per-step cosine `LambdaLR` like the engine's; no
   checkpoints, no validation. The runner is measured as it is used, so its time includes what it does besides training:
   building the model twice (a probe for the folder's record, then the run's), the record, a checkpoint (`last.pt`; `best.pt`
   only with validation, so not here) and the history written after every epoch, the result files.
   Printed per model and sampler (ms per optimizer step, and the ratio runner / bare):
   - `step`: the median time of one step (data loading included; first step of a run left out), robust to the bursts of
     other processes on a shared machine; per-epoch and per-run costs do not show in it. Both loops take a time stamp
     after each step, the runner through an `on_step_end` callback (its cost, about a microsecond, is in its figure);
   - `epochs`: the runner's training epochs only (the sum of the history's per-epoch 'seconds') against the bare epoch loop;
   - `total`: the whole call (the bare loop: model, optimizer, loader and loop), wall time, and its CPU time (process
     time: less sensitive to other processes, blind to waiting for fsync); `outside`: the runner's seconds outside its epochs.
   Both loops run the same number of optimizer steps (asserted). Runs alternate (runner, bare, bare, runner, ...) after a
   warm-up of each; ms/step are medians over runs, ratios the median of the ratios of adjacent pairs (target: <= 1.05).
   Models: the small CNN (`create_backbone('smallcnn', in_chans=1)` in a `Classifier`) on 28x28 Fashion-MNIST images,
   and a linear layer on the 784 pixels (a step costs little there, so per-step overhead shows).
2. Metrics: `cfw_nb.metrics` (`confusion_matrix` + `summarize` + `per_class_metrics`, and the full `Evaluator` on (N, C)
   logits) against scikit-learn (`confusion_matrix`, `balanced_accuracy_score`, `f1_score(average='macro')`,
   `precision_recall_fscore_support`; on the argmax of the logits for the Evaluator row) on synthetic long-tailed
   predictions, 10 and 100 classes; the numbers are checked to agree before timing. Ratios are sklearn / cfw_nb.

The script sets OMP_NUM_THREADS=1 and torch.set_num_threads(1) itself (one core per run, as the engine benchmark).
`--profile` adds where the runner's time goes, on the linear model: the steps from the bare loop to the runner one piece
at a time, the per-epoch writes, the differing per-step pieces alone (loss, optimizer), and a cProfile of one run.

    .venv/bin/python benchmarks/bench_training.py [--cnn-n 1024] [--epochs 3] [--n 10000] [--linear-epochs 10] [--metrics-n 1000000]
    .venv/bin/python benchmarks/bench_training.py --quick        # smoke run (small sizes), well under a minute
    .venv/bin/python benchmarks/bench_training.py --only runner --models linear --profile
"""
import os
os.environ['OMP_NUM_THREADS'] = '1'   # before numpy and torch start their thread pools
import argparse, copy, json, math, statistics, tempfile, time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.set_num_threads(1)

from cfw_nb.cfw import WeightedSampler
from cfw_nb.core import save_torch, write_text
from cfw_nb.engine import TrainConfig, Trainer, make_loader, make_optimizer, param_groups
from cfw_nb.training import Classifier, ClassifierLoss, ExperimentConfig, LossConfig, make_sampler, run_experiment

LR, WD = 1e-3, 1e-4                                                  # ExperimentConfig's default training settings

# ------------------------------------------------------------------------------------------------ 1. runner vs bare loop

def cnn_model():
    from cfw_nb.ssl import create_backbone
    backbone, dim = create_backbone('smallcnn', in_chans=1)
    return Classifier(backbone, dim, 10)

def linear_model(): return nn.Linear(784, 10)


class StepTimer:
    "Engine callback: a time stamp at the start of fit and after every optimizer step."
    def on_fit_start(self, trainer): self.stamps = [time.perf_counter()]
    def on_step_end(self, trainer, logs): self.stamps.append(time.perf_counter())

def median_step(stamps) -> float:
    "Median seconds of a step, the first (warm-up) left out."
    d = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(d[1:] if len(d) > 1 else d)


def bare_loop(make_model, ds, sampler_name, batch_size, epochs, seed=0, engine_opt=False) -> dict:
    "The hand-written loop: seconds of the epochs, in total (wall and CPU), the median step, and the optimizer steps."
    t0, c0 = time.perf_counter(), time.process_time()
    torch.manual_seed(seed)
    model = make_model()
    sampler = make_sampler(sampler_name, ds.tensors[1].numpy(), seed=seed)   # None (shuffling) or the runner's WeightedSampler
    assert sampler is None or type(sampler) is WeightedSampler
    g = torch.Generator(); g.manual_seed(seed)
    dl = DataLoader(ds, batch_size=batch_size, shuffle=sampler is None, sampler=sampler, generator=g)
    opt = (make_optimizer(model, TrainConfig(optimizer='adamw', lr=LR, weight_decay=WD)) if engine_opt   # (ablation only)
           else torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD))
    total = epochs * len(dl)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / max(1, total - 1), 1.0))))
    steps = 0
    stamps = [time.perf_counter()]
    for epoch in range(epochs):
        if sampler is not None: sampler.set_epoch(epoch)
        model.train()
        for x, y in dl:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step(); sched.step(); steps += 1
            stamps.append(time.perf_counter())
    end = time.perf_counter()
    return {'epochs': end - stamps[0], 'total': end - t0, 'cpu': time.process_time() - c0, 'step': median_step(stamps), 'steps': steps}


def runner(make_model, ds, sampler_name, batch_size, epochs, tmp=None, seed=0) -> dict:
    "`run_experiment` in a fresh folder: seconds of the epochs (its history's), in total (wall, CPU), the median step, the steps."
    cfg = ExperimentConfig(samplers=[sampler_name], seeds=[seed], batch_size=batch_size,
                           train=TrainConfig(epochs=epochs, optimizer='adamw', lr=LR, weight_decay=WD, progress=False))
    timer = StepTimer()
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        out = Path(d)/'exp'
        run_dir = out/'runs'/f"{sampler_name}-seed{seed}"
        t0, c0 = time.perf_counter(), time.process_time()
        run_experiment(make_model, ds, ds.tensors[1].numpy(), [str(c) for c in range(10)], out, cfg, device='cpu', callbacks=[timer], verbose=False)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        hist = [json.loads(l) for l in (run_dir/'history.jsonl').read_text().splitlines()]
        assert len(hist) == epochs, (len(hist), epochs)
        steps = int(json.loads((run_dir/'result.json').read_text())['row']['steps'])
        assert steps == len(timer.stamps) - 1
        return {'epochs': sum(h['seconds'] for h in hist), 'total': total, 'cpu': cpu, 'step': median_step(timer.stamps), 'steps': steps}


def datasets(a, X, Y) -> dict:
    nc, nl = min(a.cnn_n, len(X)), min(a.n, len(X))
    return {'smallcnn': (cnn_model, TensorDataset(X[:nc].contiguous(), Y[:nc].contiguous()), a.epochs, a.repeats),
            'linear': (linear_model, TensorDataset(X[:nl].reshape(nl, 784).contiguous(), Y[:nl].contiguous()), a.linear_epochs, a.linear_repeats)}


COLS = {'step': 'median step, wall', 'epochs': 'epochs only, wall', 'total': 'total, wall', 'cpu': 'total, CPU time'}

def bench_runner(a, X, Y):
    sets = datasets(a, X, Y)
    print(f"\n## 1. run_experiment vs a bare PyTorch loop, Fashion-MNIST training images (smallcnn: {len(sets['smallcnn'][1])}, 1x28x28; "
          f"linear: {len(sets['linear'][1])}, 784 pixels), batch {a.batch_size}, AdamW lr {LR} wd {WD}, per-step cosine; no val/test; "
          f"threads={torch.get_num_threads()} (OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}); run folders in {a.tmp or tempfile.gettempdir()}")
    head = f"{'bare':>8s} {'runner':>8s} {'ratio':>6s}"
    print(f"{'':39s} | " + ' | '.join(f"{c:^24s}" for c in COLS.values()) + f" | {'runner s':>8s}")
    print(f"{'model':9s} {'sampler':15s} {'ep':>2s} {'steps':>5s} {'runs':>4s} | " + ' | '.join(head for _ in COLS) + f" | {'outside':>8s}")
    for name in a.models:
        make_model, ds, epochs, repeats = sets[name]
        small = TensorDataset(*(t[:2 * a.batch_size] for t in ds.tensors))       # warm-up: two batches, one epoch
        for sampler in a.samplers:
            run = {'bare': lambda d=ds, e=epochs: bare_loop(make_model, d, sampler, a.batch_size, e),
                   'runner': lambda d=ds, e=epochs: runner(make_model, d, sampler, a.batch_size, e, a.tmp)}
            for f in run.values(): f(small, 1)
            res = {'bare': [], 'runner': []}
            for r in range(repeats):
                for k in (('runner', 'bare') if r % 2 == 0 else ('bare', 'runner')): res[k].append(run[k]())
            steps = {k: {v['steps'] for v in vs} for k, vs in res.items()}
            assert steps['bare'] == steps['runner'] and len(steps['bare']) == 1, f"unequal optimizer steps: {steps}"
            st = next(iter(steps['bare']))
            per_step = lambda k, s: statistics.median(v[s] for v in res[k]) * 1e3 / (1 if s == 'step' else st)
            pair = lambda s: statistics.median(rv[s] / bv[s] for rv, bv in zip(res['runner'], res['bare']))
            outside = statistics.median(v['total'] - v['epochs'] for v in res['runner'])
            print(f"{name:9s} {sampler:15s} {epochs:2d} {st:5d} {repeats:4d} | "
                  + ' | '.join(f"{per_step('bare', s):8.3f} {per_step('runner', s):8.3f} {pair(s):6.3f}" for s in COLS) + f" | {outside:8.3f}")
            if a.verbose:
                for k, vs in res.items():
                    print(f"    {k:6s} runs, s (median step / epochs / total / CPU): "
                          + ', '.join(f"{v['step']:.4f}/{v['epochs']:.3f}/{v['total']:.3f}/{v['cpu']:.3f}" for v in vs))
    print("bare, runner: ms per optimizer step, median over runs; ratio: runner / bare, median over adjacent pairs of runs (target <= 1.05).\n"
          "median step: the typical step alone (per-epoch and per-run costs excluded); epochs only: the runner's history 'seconds'\n"
          "against the bare epoch loop; total: the whole call, wall and CPU time; outside: the runner's seconds outside its epochs\n"
          "(two model builds, the record, last.pt and the history after every epoch, the result files).")


# ------------------------------------------------------------------------------------------------ 2. metrics vs sklearn

def predictions(n:int, n_classes:int, seed:int=0) -> tuple:
    "Long-tailed targets (Zipf-like class frequencies), 60% correct predictions, and logits whose argmax are the predictions."
    rng = np.random.default_rng(seed)
    p = 1 / np.arange(1, n_classes + 1) ** 0.8
    target = rng.choice(n_classes, n, p=p / p.sum())
    pred = np.where(rng.random(n) < 0.6, target, rng.integers(0, n_classes, n))
    logits = torch.from_numpy(rng.standard_normal((n, n_classes), dtype=np.float32))
    logits[torch.arange(n), torch.from_numpy(pred)] = 100.0
    return pred, target, logits


def interleaved(fns:dict, repeats:int) -> dict:
    "Median seconds of each function, called in turn `repeats` times after one warm-up call each."
    for f in fns.values(): f()
    ts = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter(); f(); ts[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in ts.items()}


def bench_metrics(a):
    from sklearn import metrics as skm
    from cfw_nb.metrics import Evaluator, confusion_matrix, per_class_metrics, summarize
    print(f"\n## 2. cfw_nb.metrics vs scikit-learn: {a.metrics_n} predictions (long-tailed targets, 60% correct), median of "
          f"{a.metric_repeats} alternating calls; ratio = sklearn / cfw_nb (higher: cfw_nb faster)")
    print(f"{'classes':>7s} {'what (cfw_nb vs sklearn)':64s} {'cfw_nb ms':>10s} {'sklearn ms':>11s} {'ratio':>7s}")
    for C in a.classes:
        pred, target, logits = predictions(a.metrics_n, C)
        tgt_t = torch.from_numpy(target)
        labels = np.arange(C)
        ev = Evaluator([f"c{i}" for i in range(C)])

        def ours():
            cm = confusion_matrix(pred, target, C)
            return cm, summarize(cm), per_class_metrics(cm)
        def theirs(p=pred):
            return (skm.confusion_matrix(target, p, labels=labels), skm.balanced_accuracy_score(target, p),
                    skm.f1_score(target, p, average='macro'), skm.precision_recall_fscore_support(target, p, labels=labels, zero_division=0))
        def theirs_logits(): return theirs(logits.argmax(1).numpy())

        # the numbers agree before anything is timed
        cm, s, pc = ours()
        sk_cm, sk_bacc, sk_f1, (sk_p, sk_r, sk_f, sk_sup) = theirs()
        np.testing.assert_array_equal(cm, sk_cm)
        np.testing.assert_allclose([s['bacc'], s['macro_f1'], s['acc']], [sk_bacc, sk_f1, skm.accuracy_score(target, pred)], rtol=1e-12)
        np.testing.assert_allclose(pc[['precision', 'recall', 'f1']].to_numpy().T, [sk_p, sk_r, sk_f], rtol=1e-12)
        np.testing.assert_array_equal(pc['support'].to_numpy(), sk_sup)
        e = ev(logits, tgt_t)
        np.testing.assert_array_equal(np.array(e['confusion']['matrix']), sk_cm)
        np.testing.assert_allclose([e['bacc'], e['macro_f1'], e['acc']], [sk_bacc, sk_f1, s['acc']], rtol=1e-12)
        assert sk_sup.min() > 0, "every class is present (recall defined everywhere)"

        rows = [('confusion_matrix vs confusion_matrix', lambda: confusion_matrix(pred, target, C), lambda: skm.confusion_matrix(target, pred, labels=labels)),
                ('confusion_matrix+summarize+per_class_metrics vs 4 sklearn calls', ours, theirs),
                ('Evaluator(logits) vs argmax + the 4 sklearn calls', lambda: ev(logits, tgt_t), theirs_logits),
                ('  (of which the argmax of the (N, C) logits, both sides)', lambda: logits.argmax(1), None)]
        for what, f_ours, f_theirs in rows:
            t = interleaved({'ours': f_ours, **({'theirs': f_theirs} if f_theirs else {})}, a.metric_repeats)
            if f_theirs: print(f"{C:7d} {what:64s} {t['ours'] * 1e3:10.2f} {t['theirs'] * 1e3:11.2f} {t['theirs'] / t['ours']:7.1f}")
            else: print(f"{C:7d} {what:64s} {t['ours'] * 1e3:10.2f}")
        logits = e = None                                               # free the (N, C) logits before the next size
    print("agreement checked first: confusion matrices equal; accuracy, balanced accuracy, macro-F1 and per-class precision, recall\n"
          "and F1 equal to 1e-12 (Evaluator included); supports equal")


# ------------------------------------------------------------------------------------------------ where the runner's time goes

def trainer_run(make_model, ds, sampler_name, batch_size, epochs, loss, run_dir=None, seed=0) -> dict:
    "The engine's Trainer as `run_experiment` sets it up (its loader, optimizer and schedule), without the runner around it."
    t0, c0 = time.perf_counter(), time.process_time()
    torch.manual_seed(seed)
    model = make_model()
    dl = make_loader(ds, batch_size, sampler=make_sampler(sampler_name, ds.tensors[1].numpy(), seed=seed), seed=seed, device='cpu')
    timer = StepTimer()
    t = Trainer(model, loss, dl, cfg=TrainConfig(epochs=epochs, optimizer='adamw', lr=LR, weight_decay=WD, progress=False, seed=seed),
                run_dir=run_dir, device='cpu', callbacks=[timer])
    hist = t.fit()
    return {'epochs': float(hist['seconds'].sum()), 'total': time.perf_counter() - t0, 'cpu': time.process_time() - c0,
            'step': median_step(timer.stamps), 'steps': t.step, 'trainer': t}


def write_costs(t:Trainer, repeats:int=15) -> dict:
    "Milliseconds of what `Trainer.fit` writes after an epoch: last.pt, the history, and best.pt (and its copy) when a validation epoch improves."
    hist = ''.join(json.dumps(h) + '\n' for h in t.history)
    best = lambda: save_torch(t.run_dir/'best.pt', {'model': copy.deepcopy({k: v.detach().cpu() for k, v in t.model.state_dict().items()}), 'epoch': 1})
    fns = {'last.pt (state_dict + save_torch)': t.save_checkpoint, 'best.pt (deepcopy + save_torch)': best,
           'history.jsonl (write_text)': lambda: write_text(t.run_dir/'history.jsonl', hist), 'state_dict alone (no file)': t.state_dict}
    return {k: v * 1e3 for k, v in interleaved(fns, repeats).items()}


def pieces(B:int, repeats:int=15, calls:int=200) -> list:
    "Microseconds of the per-step pieces that differ between the bare loop and the engine, each alone."
    out = []
    x, y = torch.randn(B, 10, requires_grad=True), torch.randint(0, 10, (B,))
    L = ClassifierLoss(LossConfig())
    loss = {'F.cross_entropy, forward + backward': lambda: F.cross_entropy(x, y).backward(),
            'ClassifierLoss(LossConfig()), forward + backward': lambda: L(x, y).backward(),
            '  F.cross_entropy(ignore_index=-1, sum) / labelled count': lambda: (F.cross_entropy(x, y, ignore_index=-1, reduction='sum') / (y != -1).sum().clamp(min=1)).backward()}
    out.append(('loss on (B, 10) logits', loss))
    for name, make_model in (('linear', linear_model), ('smallcnn', cnn_model)):
        torch.manual_seed(0); m = make_model()
        for p in m.parameters(): p.grad = torch.randn_like(p)
        opts = {'AdamW, one group (bare loop)': torch.optim.AdamW(m.parameters(), lr=LR, weight_decay=WD),
                'AdamW, engine param groups (2: decay / no decay)': torch.optim.AdamW(param_groups(m, WD), lr=LR),
                '  the same, foreach=True': torch.optim.AdamW(param_groups(m, WD), lr=LR, foreach=True),
                '  the same, fused=True': torch.optim.AdamW(param_groups(m, WD), lr=LR, fused=True)}
        out.append((f"optimizer.step(), {name}", {k: o.step for k, o in opts.items()}))
    res = []
    for title, fns in out:
        batch = {k: (lambda f=f: [f() for _ in range(calls)]) for k, f in fns.items()}
        res.append((title, {k: v / calls * 1e6 for k, v in interleaved(batch, repeats).items()}))
    return res


def ablation(a, X, Y):
    "From the bare loop to the runner one piece at a time, on the linear model (uniform): what each piece costs."
    make_model, ds, E, R = datasets(a, X, Y)['linear']
    B = a.batch_size
    with tempfile.TemporaryDirectory(dir=a.tmp) as tmp:
        k = iter(range(10**6))
        fresh = lambda: Path(tmp)/f"run{next(k)}"
        variants = {
            'bare loop': lambda: bare_loop(make_model, ds, 'uniform', B, E),
            'bare loop + engine param groups (2)': lambda: bare_loop(make_model, ds, 'uniform', B, E, engine_opt=True),
            'Trainer, F.cross_entropy, no run_dir': lambda: trainer_run(make_model, ds, 'uniform', B, E, F.cross_entropy),
            'Trainer, ClassifierLoss, no run_dir': lambda: trainer_run(make_model, ds, 'uniform', B, E, ClassifierLoss(LossConfig())),
            'Trainer, ClassifierLoss, run_dir': lambda: trainer_run(make_model, ds, 'uniform', B, E, ClassifierLoss(LossConfig()), fresh()),
            'run_experiment': lambda: runner(make_model, ds, 'uniform', B, E, a.tmp)}
        names = list(variants)
        for f in variants.values(): f()                                 # warm-up
        res = {v: [] for v in names}
        for r in range(R):                                              # round robin, the order rotating from round to round
            for v in names[r % len(names):] + names[:r % len(names)]: res[v].append(variants[v]())
        steps = {v: {x['steps'] for x in xs} for v, xs in res.items()}
        assert len(set().union(*steps.values())) == 1, f"unequal steps: {steps}"
        st = next(iter(steps['bare loop']))
        costs = {'linear': write_costs(trainer_run(linear_model, ds, 'uniform', B, 1, ClassifierLoss(LossConfig()), fresh())['trainer'])}
        small = TensorDataset(X[:B], Y[:B])
        costs['smallcnn'] = write_costs(trainer_run(cnn_model, small, 'uniform', B, 1, ClassifierLoss(LossConfig()), fresh())['trainer'])
    print(f"\n## where the runner's time goes: linear model, uniform, {len(ds)} images, {E} epochs, {st} steps, {R} rounds (round robin)")
    print(f"{'':40s} | " + ' | '.join(f"{c:^29s}" for c in COLS.values()))
    print(f"{'variant':40s} | " + ' | '.join(f"{'ms/step':>8s} {'vs bare':>8s} {'vs prev':>11s}" for _ in COLS))
    for i, v in enumerate(names):
        cells = []
        for s in COLS:
            med = statistics.median(x[s] for x in res[v]) * 1e3 / (1 if s == 'step' else st)
            vs = lambda w: statistics.median(x[s] / y[s] for x, y in zip(res[v], res[w]))
            cells.append(f"{med:8.4f} {vs('bare loop'):8.3f} {vs(names[i - 1]) if i else 1.0:11.3f}")
        print(f"{v:40s} | " + ' | '.join(cells))
    out = {v: statistics.median(x['total'] - x['epochs'] for x in res[v]) * 1e3 for v in names[-2:]}
    print("ms/step: median over rounds; vs bare / vs prev: median over rounds of the ratio to the bare loop / to the row above.\n"
          f"Outside the epochs (median): Trainer with run_dir {out[names[-2]]:.1f} ms, run_experiment {out[names[-1]]:.1f} ms per run.")
    print(f"\nper-epoch writes of Trainer.fit without validation (ms, median of 15; run folders in {a.tmp or tempfile.gettempdir()}):")
    for key in costs['linear']: print(f"  {key:45s} linear {costs['linear'][key]:7.2f}   smallcnn {costs['smallcnn'][key]:7.2f}")
    print(f"\nthe differing per-step pieces alone (µs per call, median of 15 interleaved rounds of 200 calls; batch {B}):")
    for title, t in pieces(B):
        print(f"  {title}")
        for key, us in t.items(): print(f"    {key:58s} {us:8.1f}")


def profile_runner(a, X, Y):
    "cProfile of one runner run (linear model, uniform): the functions that matter."
    import cProfile, pstats
    make_model, ds, E, _ = datasets(a, X, Y)['linear']
    runner(make_model, ds, 'uniform', a.batch_size, 1, a.tmp)             # warm-up
    pr = cProfile.Profile()
    pr.enable(); r = runner(make_model, ds, 'uniform', a.batch_size, E, a.tmp); pr.disable()
    st = pstats.Stats(pr)
    by_name = {}
    for (file, line, fn), (cc, nc, tt, ct, callers) in st.stats.items(): by_name.setdefault(fn, []).append((ct, nc, tt, file, line))
    want = [('run_experiment', 'run_experiment', 'training.py'), ('fit', 'Trainer.fit', 'engine.py'), ('_train_epoch', 'training epochs', 'engine.py'),
            ('__next__', 'DataLoader batches', 'dataloader.py'), ('__call__', 'ClassifierLoss', 'training.py'),
            ('cross_entropy', '  F.cross_entropy inside it', 'functional.py'), ('backward', 'backward', '_tensor.py'),
            ('step', 'AdamW.step', 'adam.py'), ('step', 'LambdaLR.step', 'lr_scheduler.py'), ('_log_values', '_log_values (.item())', 'engine.py'),
            ('to_device', 'to_device', 'engine.py'), ('_sum_logs', '_sum_logs', 'engine.py'), ('on_step_end', 'StepTimer callback', 'bench_training.py'),
            ('save_checkpoint', 'save_checkpoint (last.pt)', 'engine.py'), ('save_torch', 'save_torch (last.pt + best.pt, fsync)', 'core.py'),
            ('write_text', 'write_text (history, json, fsync)', 'core.py'), ('_check_record', 'experiment record', 'training.py'),
            ('summarize_runs', 'summarize_runs', 'training.py')]
    print(f"\n## cProfile of one run_experiment run: linear model, uniform, {E} epochs, {r['steps']} steps; total {r['total'] * 1e3:.0f} ms, "
          f"epochs {r['epochs'] * 1e3:.0f} ms (cProfile inflates the Python-heavy parts)")
    print(f"  {'function':42s} {'cumulative ms':>13s} {'calls':>6s}")
    for fn, label, where in want:
        for ct, nc, tt, file, line in by_name.get(fn, []):
            if Path(file).name == where: print(f"  {label:42s} {ct * 1e3:13.1f} {nc:6d}")
    own = next(v for k, v in st.stats.items() if k[2] == '_train_epoch')
    print(f"  {'_train_epoch, its own lines (tottime)':42s} {own[2] * 1e3:13.1f}")
    if a.verbose: st.sort_stats('cumulative').print_stats(40)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--only', choices=('runner', 'metrics'), default=None)
    p.add_argument('--models', nargs='+', default=['smallcnn', 'linear'], choices=('smallcnn', 'linear'))
    p.add_argument('--samplers', nargs='+', default=['uniform', 'class_balanced'], choices=('uniform', 'class_balanced'))
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--cnn-n', type=int, default=1024, help='training images of the small CNN')
    p.add_argument('--epochs', type=int, default=3, help='epochs of the small CNN')
    p.add_argument('--repeats', type=int, default=5, help='runs of each loop, small CNN')
    p.add_argument('--n', type=int, default=10_000, help='training images of the linear model')
    p.add_argument('--linear-epochs', type=int, default=10, help='epochs of the linear model')
    p.add_argument('--linear-repeats', type=int, default=7, help='runs of each loop, linear model (and rounds of --profile)')
    p.add_argument('--metrics-n', type=int, default=1_000_000)
    p.add_argument('--classes', type=int, nargs='+', default=[10, 100])
    p.add_argument('--metric-repeats', type=int, default=5)
    p.add_argument('--tmp', default=None, help='where the run folders go (default: the system temporary folder)')
    p.add_argument('--profile', action='store_true', help="also show where the runner's time goes (linear model)")
    p.add_argument('--quick', action='store_true', help='smoke run: small sizes')
    p.add_argument('--verbose', action='store_true', help='every run, and the top of the cProfile listing')
    a = p.parse_args()
    if a.quick: a.cnn_n, a.epochs, a.repeats, a.n, a.linear_epochs, a.linear_repeats, a.metrics_n, a.metric_repeats = 128, 2, 3, 1024, 3, 3, 100_000, 3
    t0 = time.perf_counter()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; torch threads {torch.get_num_threads()} and "
          f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, both set by this script" + (" [--quick: small sizes, a smoke run, not a measurement]" if a.quick else ''))
    if a.only != 'metrics' or a.profile:
        from cfw_nb.ingestion import load_fashion_mnist
        X, Y = load_fashion_mnist().split('train').to_tensors()
        if a.only != 'metrics': bench_runner(a, X, Y)
        if a.profile: ablation(a, X, Y); profile_runner(a, X, Y)
        X = Y = None
    if a.only != 'runner': bench_metrics(a)
    print(f"\n(whole benchmark: {time.perf_counter() - t0:.0f} s; load average now {os.getloadavg()[0]:.1f})")

if __name__ == '__main__': main()
