"""CFW clustering: the reference way against cfw_nb's default (and its exact dense path), measured in the same run.

For each feature dimension D and chunk size C, N samples are clustered chunk by chunk (consecutive chunks of C) by
- reference: `hdbscan` on the dense float64 `1 - cosine_similarity` matrix (cfw_nb.cfw.reference_labels);
- exact: the cosine minimum spanning tree from a dense float32 matrix and Prim's algorithm, then hdbscan's tree code;
- knn: the same tree through the exact k-NN graph (k=64) and Boruvka joins (memory n * k instead of n^2);
- auto (cfw_nb's default): exact when the chunk's float32 matrix fits in 256 MB (C <= 8192), knn above.
All run one HDBSCAN pass (`recluster=()`): the comparison is of the clustering both ways share. cfw_nb's default
adds a pass over each chunk's outliers; `--stream` runs the default, that pass included.
Each method runs in its own fresh process (so peak memory is its own): time for all N, peak resident memory above
the process's state before clustering (Linux VmHWM, reset after the data is made), and the adjusted Rand index of its labels against the reference's, per
chunk (mean and minimum over chunks). Ratios are reference / method (time and memory: higher is better).

Data: `synthetic` (a long-tailed Gaussian mixture on unit directions with 5% noise, cfw_nb.cfw.clustered_features)
or `fashion` (Fashion-MNIST training pixels, D = 784, from the Debian package or a torchvision download).
`--stream N` instead measures cfw_nb alone on N x 384 synthetic features written to a memory-mapped .npy file
in --tmp and read back chunk by chunk in --workers processes.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cfw.py --n 50000 --dims 384 768 --chunks 1024 4096 16384
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cfw.py --data fashion --n 50000 --chunks 1024 4096 16384
    .venv/bin/python benchmarks/bench_cfw.py --stream 1000000 --chunks 4096 --workers 2 --tmp /tmp
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    "Current resident memory of this process, MB."
    return int(Path('/proc/self/statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def reset_peak():
    "Restart this process's peak-memory count (VmHWM) from its current size (Linux: /proc/self/clear_refs)."
    Path('/proc/self/clear_refs').write_text('5')


def peak_mb() -> float:
    "Peak resident memory of this process since the last `reset_peak`, MB."
    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:'))
    return int(line.split()[1]) / 1024


def features(data:str, n:int, dim:int) -> np.ndarray:
    if data == 'synthetic':
        from cfw_nb.cfw import clustered_features
        return clustered_features(n, dim, clusters=200, seed=0)[0]
    from cfw_nb.ingestion import load_fashion_mnist
    train = load_fashion_mnist().split('train')
    x = train.images[train.table['index'].to_numpy()[:n]].reshape(-1, 784).astype(np.float32)   # training rows only
    if len(x) < n: raise SystemExit(f"Fashion-MNIST has only {len(x)} training images, asked for {n}")
    return x


def one(method:str, data:str, n:int, dim:int, chunk:int, out:str):
    "Child process: cluster all chunks with one method, write labels and measurements."
    from cfw_nb.cfw import CFWConfig, cluster_chunk, make_chunks
    x = features(data, n, dim)
    cfg = CFWConfig(chunking='reference', chunk_size=chunk, method=method, recluster=())
    chunks = make_chunks(n, chunk, 'reference', min_size=cfg.min_cluster_size)
    cluster_chunk(x[:200], cfg)                                  # warm-up: imports, numba compilation (cached on disk)
    base = rss_mb(); reset_peak()                                 # the data's own generation peak is not counted
    t0 = time.perf_counter()
    labels = [cluster_chunk(x[c], cfg)[0] for c in chunks]
    secs = time.perf_counter() - t0
    peak = peak_mb() - base
    np.save(out, np.concatenate(labels))
    print(json.dumps({'seconds': secs, 'peak_mb': max(peak, 0.0), 'chunks': len(chunks)}))


def run_child(method, data, n, dim, chunk) -> tuple:
    with tempfile.TemporaryDirectory() as d:
        out = f'{d}/labels.npy'
        r = subprocess.run([sys.executable, __file__, '--child', method, '--data', data, '--n', str(n), '--dims', str(dim),
                            '--chunks', str(chunk), '--out', out], capture_output=True, text=True)
        if r.returncode: raise SystemExit(f"{method} failed:\n{r.stderr[-3000:]}")
        return json.loads(r.stdout.strip().splitlines()[-1]), np.load(out)


def compare(a):
    from sklearn.metrics import adjusted_rand_score
    from cfw_nb.cfw import make_chunks
    print(f"data={a.data} n={a.n} threads={os.environ.get('OMP_NUM_THREADS', 'all')} (consecutive chunks; min_cluster_size 25, min_samples 1, eom)")
    dims = [784] if a.data == 'fashion' else a.dims
    for dim in dims:
        for chunk in a.chunks:
            res = {m: run_child(m, a.data, a.n, dim, chunk) for m in ['reference'] + a.methods}
            ref_stats, ref_lab = res['reference']
            chunks = make_chunks(a.n, chunk, 'reference', min_size=25)
            print(f"D={dim} C={chunk}: reference {ref_stats['seconds']:.2f} s, peak +{ref_stats['peak_mb']:.0f} MB ({ref_stats['chunks']} chunks)")
            for m in a.methods:
                st, lab = res[m]
                ari = [adjusted_rand_score(ref_lab[c], lab[c]) for c in chunks]
                print(f"  {m:5s} {st['seconds']:.2f} s, peak +{st['peak_mb']:.0f} MB | time ratio {ref_stats['seconds'] / st['seconds']:.2f}x, "
                      f"memory ratio {ref_stats['peak_mb'] / max(st['peak_mb'], 1):.1f}x | ARI vs reference mean {np.mean(ari):.4f} min {np.min(ari):.4f}")


def stream(a):
    "cfw_nb alone on a large memory-mapped feature file."
    from cfw_nb.cfw import CFWConfig, clustered_features, compute_cfw
    with tempfile.TemporaryDirectory(dir=a.tmp) as d:
        path = f'{d}/features.npy'
        mm = np.lib.format.open_memmap(path, 'w+', np.float32, (a.stream, 384))
        for s in range(0, a.stream, 100_000):                       # written block by block: never all in memory
            e = min(a.stream, s + 100_000)
            mm[s:e] = clustered_features(e - s, 384, clusters=200, seed=s)[0]
        mm.flush(); del mm
        x = np.load(path, mmap_mode='r')
        for chunk in a.chunks:                                       # (the workers' peak below is over all chunk sizes so far)
            base = rss_mb(); reset_peak()
            t0 = time.perf_counter()
            r = compute_cfw(x, CFWConfig(chunk_size=chunk), workers=a.workers)
            secs = time.perf_counter() - t0
            peak = peak_mb() - base
            kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"N={a.stream} D=384 C={chunk} workers={a.workers}: {secs:.1f} s ({a.stream / secs:.0f} samples/s), "
                  f"main process peak +{max(peak, 0):.0f} MB, largest worker peak {kids:.0f} MB, file {os.path.getsize(path) / 2**20:.0f} MB; "
                  f"{len(r.chunks)} chunks, {int(r.chunks.clusters.sum())} clusters")


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', choices=('synthetic', 'fashion'), default='synthetic')
    p.add_argument('--n', type=int, default=50_000)
    p.add_argument('--dims', type=int, nargs='+', default=[384, 768])
    p.add_argument('--chunks', type=int, nargs='+', default=[1024, 4096, 16384])
    p.add_argument('--methods', nargs='+', default=['auto', 'knn', 'exact'], choices=('auto', 'knn', 'exact'))
    p.add_argument('--stream', type=int, default=0, help='N for the streamed run (0: compare methods instead)')
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--tmp', default=None)
    p.add_argument('--child', default=None, help=argparse.SUPPRESS)
    p.add_argument('--out', default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: one(a.child, a.data, a.n, a.dims[0], a.chunks[0], a.out)
    elif a.stream: stream(a)
    else: compare(a)
