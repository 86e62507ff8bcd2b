"""Run one cfw_nb writer in this process, with faults injected at deterministic points; used by test_faults.py.

    python tests/fault_job.py --serve     # read jobs from stdin, run each in a child forked after the imports (see `serve`)

    python tests/fault_job.py [--fault SPEC ...] features OUT [DIM]     # extract_features of a tiny encoder (DIM features, 16) on digits
    python tests/fault_job.py [--fault SPEC ...] bundle OUT [DIM]       # save_bundle of 600 clustered features (DIM, 16)
    python tests/fault_job.py [--fault SPEC ...] weights BUNDLE OUT     # the CLI: cfw_nb weights --bundle BUNDLE --out OUT
    python tests/fault_job.py [--fault SPEC ...] train OUT              # run_experiment (uniform sampler, seeds 0 and 1, 4 epochs) in OUT/exp
    python tests/fault_job.py [--fault SPEC ...] update-run RUN         # RunDir(RUN).update(...): rewrites RUN/run.json
    python tests/fault_job.py [--fault SPEC ...] folder OUT TEXT        # new_folder(OUT, 'demo', replace=True) holding a.txt and b/c.txt
    python tests/fault_job.py [--fault SPEC ...] frames DRIVEACT OUT Q  # extract_driveact_frames of view kinect_color, split 0, JPEG quality Q

A fault SPEC:

    kill-rename:GLOB[:K]   SIGKILL just before the K-th os.replace / os.rename onto a name matching GLOB (the output is complete, not in place)
    kill-write:GLOB:K:N    SIGKILL once N bytes (characters) of the K-th file opened for writing as GLOB are written and flushed
    full:GLOB:K:N          the disk is full: OSError(ENOSPC) once N bytes of the K-th file opened for writing as GLOB are written
    kill-batch:K           (features) SIGKILL when the encoder is called for batch K (from 1): features.npy is partly written

A file written through cfw_nb's temporary sibling `.NAME.cfwtmp-...` counts as NAME. Files opened with `open` hide their
descriptor from the writer (PIL would write to it directly), so every byte passes the counting `write` (Linux: the name of
a file opened with `os.fdopen`, as `atomic_write` does, is read from /proc). When a fault fires
the job prints `fault: SPEC ...` to stderr, so that a test tells the planned kill from a crash. The clocks cfw_nb records
inside outputs (a bundle's `created`, CFW's seconds per chunk) are frozen so that two runs write the same bytes; manifests
keep their real `created`.
"""
import argparse, builtins, errno, fnmatch, io, json, os, signal, sys, traceback

TMP = '.cfwtmp-'


def _fire(spec, what):
    sys.stderr.write(f"fault: {spec} {what}\n"); sys.stderr.flush()
    if not spec.startswith('full'): os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.ENOSPC, 'No space left on device')


class _Counter:
    "Counts the paths whose name (that of the target, for a temporary sibling) matches GLOB; `hit` is True on the K-th."
    def __init__(self, glob, k): self.glob, self.k, self.n = glob, int(k), 0
    def hit(self, path):
        name = os.path.basename(os.fsdecode(path))
        if name.startswith('.') and TMP in name: name = name[1:name.index(TMP)]
        if not fnmatch.fnmatchcase(name, self.glob): return False
        self.n += 1
        return self.n == self.k


class _Faulty:
    "A file object that fires `spec` once `n` units are written (those before the limit are written and flushed first)."
    def __init__(self, f, path, spec, n, fd): self._f, self._path, self._spec, self._left, self._fd = f, os.fsdecode(path), spec, int(n), fd
    def write(self, data):
        if self._left is not None:
            d = data if isinstance(data, str) else memoryview(data).cast('B')
            if len(d) > self._left:
                self._f.write(d[:self._left]); self._f.flush()
                self._left = None; _fire(self._spec, f"part-way through {self._path}")
            self._left -= len(d)
        return self._f.write(data)
    def fileno(self):
        if not self._fd: raise io.UnsupportedOperation('fileno')
        return self._f.fileno()
    def __enter__(self): self._f.__enter__(); return self
    def __exit__(self, *exc): return self._f.__exit__(*exc)
    def __getattr__(self, k): return getattr(self._f, k)


def inject(spec):
    "Install the fault `spec` in this process (see the module docstring)."
    kind, *args = spec.split(':')
    if kind == 'kill-rename':
        c = _Counter(args[0], args[1] if len(args) > 1 else 1)
        for fn in ('replace', 'rename'):
            def wrapped(src, dst, *a, _orig=getattr(os, fn), **kw):
                if c.hit(dst): _fire(spec, f"before renaming {src} to {dst}")
                return _orig(src, dst, *a, **kw)
            setattr(os, fn, wrapped)
    elif kind in ('kill-write', 'full'):
        c = _Counter(args[0], args[1])
        def opened(f, path, mode, fd):
            return _Faulty(f, path, spec, args[2], fd) if any(m in mode for m in 'wax+') and c.hit(path) else f
        orig_open, orig_fdopen = builtins.open, os.fdopen
        def open_(file, mode='r', *a, **kw):
            f = orig_open(file, mode, *a, **kw)
            return opened(f, file, mode, False) if isinstance(file, (str, bytes, os.PathLike)) else f
        builtins.open = open_
        os.fdopen = lambda fd, mode='r', *a, **kw: opened(orig_fdopen(fd, mode, *a, **kw), os.readlink(f"/proc/self/fd/{fd}"), mode, True)
    elif kind != 'kill-batch': raise ValueError(f"unknown fault {spec!r}")


def main(argv=None):
    p = argparse.ArgumentParser(prog='fault_job.py')
    p.add_argument('--fault', action='append', default=[])
    p.add_argument('command'); p.add_argument('args', nargs='*')
    a = p.parse_args(argv)
    import datetime as dt, types
    import numpy as np, torch
    from torch import nn
    import cfw_nb.cfw, cfw_nb.features
    from cfw_nb.core import RunDir, new_folder, write_text
    torch.set_num_threads(1)

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None): return dt.datetime(2024, 1, 1, tzinfo=tz)
    cfw_nb.features.datetime = Frozen
    cfw_nb.cfw.time = types.SimpleNamespace(perf_counter=lambda: 0.0)
    for spec in a.fault: inject(spec)

    dim = int(a.args[1]) if a.command in ('features', 'bundle') and len(a.args) > 1 else 16
    if a.command == 'features':
        from cfw_nb.ingestion import load_digits_set
        torch.manual_seed(0)
        enc = nn.Sequential(nn.Flatten(), nn.Linear(64, dim))
        for spec in a.fault:
            if spec.startswith('kill-batch'):
                calls = []
                def hook(module, x, spec=spec):
                    calls.append(1)
                    if len(calls) == int(spec.split(':')[1]): _fire(spec, f"at batch {len(calls)}")
                enc.register_forward_pre_hook(hook)
        cfw_nb.features.extract_features(enc, load_digits_set(), a.args[0], batch_size=200, device='cpu')
    elif a.command == 'bundle':
        import pandas as pd
        f, truth = cfw_nb.cfw.clustered_features(600, dim, clusters=8)
        samples = pd.DataFrame({'index': np.arange(600), 'split': 'train'})
        cfw_nb.features.save_bundle(cfw_nb.features.FeatureBundle(f, np.maximum(truth, 0), samples, {'format': 'test'}), a.args[0])
    elif a.command == 'weights':
        from cfw_nb.pipeline import main as cli
        sys.exit(cli(['weights', '--bundle', a.args[0], '--out', a.args[1], '--cluster-size', '50']))
    elif a.command == 'train':
        from pathlib import Path
        from torch.utils.data import TensorDataset
        from cfw_nb.engine import TrainConfig
        from cfw_nb.ingestion import load_digits_set
        from cfw_nb.training import ExperimentConfig, run_experiment
        digits = load_digits_set()
        (x, y), (xt, yt) = digits.split('train').to_tensors(), digits.split('test').to_tensors()
        h = len(yt) // 2
        model = lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
        cfg = ExperimentConfig(samplers=['uniform'], seeds=[0, 1], batch_size=64,
                               train=TrainConfig(epochs=4, optimizer='sgd', lr=0.05, weight_decay=1e-4, progress=False))
        exp = run_experiment(model, TensorDataset(x, y), y.numpy(), digits.classes, Path(a.args[0])/'exp', cfg,
                             val=TensorDataset(xt[:h], yt[:h]), test=TensorDataset(xt[h:], yt[h:]), verbose=False)
        (Path(a.args[0])/'table.json').write_text(exp.table.drop(columns='train_seconds').to_json(orient='records'))
    elif a.command == 'update-run':
        RunDir(a.args[0]).update(results={'acc': 0.75, 'per_class': list(np.linspace(0, 1, 50))})
    elif a.command == 'folder':
        out, text = a.args
        with new_folder(out, 'demo', {'text': text}, replace=True) as tmp:
            write_text(tmp/'a.txt', text * 100); write_text(tmp/'b'/'c.txt', text * 100)
    elif a.command == 'frames':
        from cfw_nb.readers import extract_driveact_frames, read_driveact
        extract_driveact_frames(read_driveact(a.args[0]), a.args[1], quality=int(a.args[2]))
    else: p.error(f"unknown command {a.command!r}")


def serve():
    """Per line of stdin, a job as JSON `[stdout file, stderr file, arguments...]`: run it in a child forked from this process
    (a fresh process that starts with the imports done, in a tenth of a second instead of seconds) and print its exit status
    (-N: killed by signal N)."""
    import av, sklearn.datasets, sklearn.model_selection                                             # noqa: F401
    import cfw_nb.features, cfw_nb.formats, cfw_nb.pipeline, cfw_nb.readers, cfw_nb.training         # noqa: F401
    for line in sys.stdin:
        out, err, *argv = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            for fd, path in ((1, out), (2, err)): os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            try: main(argv); code = 0
            except SystemExit as e: code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
            except BaseException: traceback.print_exc(); code = 1
            sys.stdout.flush(); sys.stderr.flush(); os._exit(code)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)


if __name__ == '__main__': serve() if sys.argv[1:] == ['--serve'] else main()
