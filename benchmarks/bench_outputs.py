"""What the nothing-lost rule costs: a folder written through `new_folder` with its manifest, against the same files
written in place, in the same run; and what checking a finished output before reuse costs, against reading it.

For each size N, an N x 384 float32 feature array (and N int64 labels) is written
- plain: `np.save` of both files straight into a new folder (no temporary folder, no hashes, no fsync);
- synced: the same, each file then flushed to disk (`os.fsync`): the durable write without the rule's other parts;
- cfw_nb: `new_folder(out, 'features', params)`: the same two files in a temporary sibling, then the manifest
  (each file hashed with SHA-256 and flushed to disk), then the rename.
Then a reuse check of the finished folder is timed against reading it back:
- load: `np.load` of both files (fully read into memory);
- reuse (hash): `reuse_folder(out, 'features', params)`, every file hashed again;
- reuse (size): `reuse_folder(..., verify='size')`, what the loaders use (sizes only).
Each timing is the median of --repeats runs; the ratios are against the plain and synced writes and the load of the same N.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_outputs.py --sizes 50000 200000 --tmp /tmp
"""
import argparse, os, shutil, tempfile, time
from pathlib import Path

import numpy as np

from cfw_nb.core import new_folder, reuse_folder

DIM = 384


def timed(fn, repeats:int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[50_000, 200_000])
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--tmp', default=None, help='where the folders are written (default: the system temporary folder)')
    a = p.parse_args(argv)
    print(f"{'N':>9} {'MB':>6} {'plain s':>8} {'synced s':>9} {'cfw_nb s':>9} {'/plain':>7} {'/synced':>8} {'load s':>7} {'hash s':>7} {'/load':>6} {'size s':>7} {'/load':>6}")
    for n in a.sizes:
        x = np.random.default_rng(0).standard_normal((n, DIM), dtype=np.float32); y = np.arange(n) % 10
        params = {'n': n, 'dim': DIM}
        with tempfile.TemporaryDirectory(dir=a.tmp) as d:
            d = Path(d)
            def plain():
                shutil.rmtree(d/'plain', ignore_errors=True); (d/'plain').mkdir()
                np.save(d/'plain'/'features.npy', x); np.save(d/'plain'/'labels.npy', y)
            def synced():
                plain()
                for f in ('features.npy', 'labels.npy'):
                    fd = os.open(d/'plain'/f, os.O_RDONLY); os.fsync(fd); os.close(fd)
            def ours():
                shutil.rmtree(d/'ours', ignore_errors=True)
                with new_folder(d/'ours', 'features', params) as tmp:
                    np.save(tmp/'features.npy', x); np.save(tmp/'labels.npy', y)
            t_plain, t_synced, t_ours = timed(plain, a.repeats), timed(synced, a.repeats), timed(ours, a.repeats)
            t_load = timed(lambda: (np.load(d/'ours'/'features.npy'), np.load(d/'ours'/'labels.npy')), a.repeats)
            t_hash = timed(lambda: reuse_folder(d/'ours', 'features', params), a.repeats)
            t_size = timed(lambda: reuse_folder(d/'ours', 'features', params, verify='size'), a.repeats)
        mb = x.nbytes / 2**20
        print(f"{n:>9} {mb:>6.0f} {t_plain:>8.3f} {t_synced:>9.3f} {t_ours:>9.3f} {t_ours / t_plain:>7.2f} {t_ours / t_synced:>8.2f} {t_load:>7.3f} {t_hash:>7.3f} "
              f"{t_hash / t_load:>6.2f} {t_size:>7.4f} {t_size / t_load:>6.3f}")


if __name__ == '__main__':
    main()
