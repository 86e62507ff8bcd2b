"""Time and peak memory of building sample tables from full-size metadata, against naive baselines in the same run.

1. BDD100K: a generated labels file with 70,000 frames in the real schema (5-25 boxes, two lanes and a
   drivable-area polygon per frame), read by `read_bdd100k` (streaming) and by the naive way
   (`json.load` of the whole file, then the same three columns).
2. StateFarm: a 22,424-image Kaggle-layout tree with the real per-class counts and 26 drivers, read by
   `read_statefarm` (which checks every listed image against the disk) and by a baseline that only reads
   the CSV with pandas and lists the folders.

Each measurement runs in a fresh process; peak memory is that process's maximum resident set size minus
its size after imports. Ratios are reader / baseline.

    .venv/bin/python benchmarks/bench_ingest.py [--data DIR]   # DIR keeps the generated data between runs
"""
import argparse, csv, subprocess, sys, tempfile, time
from pathlib import Path

STATEFARM_COUNTS = [2489, 2267, 2317, 2346, 2326, 2312, 2325, 2002, 1911, 2129]
DRIVERS = ['p002', 'p012', 'p014', 'p015', 'p016', 'p021', 'p022', 'p024', 'p026', 'p035', 'p039', 'p041', 'p042',
           'p045', 'p047', 'p049', 'p050', 'p051', 'p052', 'p056', 'p061', 'p064', 'p066', 'p072', 'p075', 'p081']

WORKERS = {
    'bdd_reader': "from cfw_nb.readers import read_bdd100k\n"
                  "def run(root): return len(read_bdd100k(root, splits=('train',), include_test=False, check_images=False))",
    'bdd_naive': "import json, pandas as pd\n"
                 "def run(root):\n"
                 "    frames = json.load(open(f'{root}/labels/bdd100k_labels_images_train.json'))\n"
                 "    df = pd.DataFrame({'name': [f['name'] for f in frames], **{k: [f['attributes'][k] for f in frames] for k in ('weather', 'scene', 'timeofday')}})\n"
                 "    return len(df)",
    'statefarm_reader': "from cfw_nb.readers import read_statefarm\n"
                        "def run(root): return len(read_statefarm(root))",
    'statefarm_baseline': "import os, pandas as pd\n"
                          "def run(root):\n"
                          "    df = pd.read_csv(f'{root}/driver_imgs_list.csv')\n"
                          "    files = [f for c in sorted(os.listdir(f'{root}/imgs/train')) for f in os.listdir(f'{root}/imgs/train/{c}')]\n"
                          "    return len(df) + 0 * len(files)",
}

MEASURE = """
import resource, sys, time
{code}
import numpy, pandas, torch  # the same imports on both sides, so only the work differs
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter(); n = run(sys.argv[1]); dt = time.perf_counter() - t0
print(n, dt, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
"""


def measure(name, root):
    r = subprocess.run([sys.executable, '-c', MEASURE.format(code=WORKERS[name]), str(root)], capture_output=True, text=True)
    if r.returncode: sys.exit(f"{name} failed:\n{r.stderr}")
    n, dt, mb = r.stdout.split()
    return int(n), float(dt), float(mb)


def make_bdd(root):
    from cfw_nb.formats import write_bdd100k
    if not (root/'labels'/'bdd100k_labels_images_train.json').exists():
        t0 = time.perf_counter()
        write_bdd100k(root, n_train=70_000, n_val=0, n_test=0, images=False, boxes=(5, 25))
        print(f"generated BDD100K labels in {time.perf_counter() - t0:.0f} s")
    return root


def make_statefarm(root):
    if (root/'driver_imgs_list.csv').exists(): return root
    from cfw_nb.formats import STATEFARM_CLASSES, synthetic_image
    import io
    buf = io.BytesIO(); synthetic_image(0, 10, (32, 24)).save(buf, format='JPEG'); jpg = buf.getvalue()
    rows, i = [], 0
    for c, n in zip(STATEFARM_CLASSES, STATEFARM_COUNTS):
        (root/'imgs'/'train'/c).mkdir(parents=True)
        for k in range(n):
            i += 1; name = f"img_{i}.jpg"
            (root/'imgs'/'train'/c/name).write_bytes(jpg)
            rows.append((DRIVERS[k % len(DRIVERS)], c, name))
    with open(root/'driver_imgs_list.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['subject', 'classname', 'img']); w.writerows(rows)
    return root


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', help='folder for the generated data (kept); default: a temporary folder')
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(a.data or tmp); data.mkdir(parents=True, exist_ok=True)
        bdd, sf = make_bdd(data/'bdd100k'), make_statefarm(data/'statefarm')
        size = (bdd/'labels'/'bdd100k_labels_images_train.json').stat().st_size / 2**20
        print(f"BDD100K labels file: 70,000 frames, {size:.0f} MB; StateFarm tree: {sum(STATEFARM_COUNTS):,} images")
        for title, reader, baseline, root in (('BDD100K', 'bdd_reader', 'bdd_naive', bdd), ('StateFarm', 'statefarm_reader', 'statefarm_baseline', sf)):
            n1, t1, m1 = measure(reader, root)
            n2, t2, m2 = measure(baseline, root)
            print(f"{title}: {reader} {n1} rows in {t1:.2f} s, peak +{m1:.0f} MB | {baseline} {n2} rows in {t2:.2f} s, peak +{m2:.0f} MB"
                  f" | time ratio {t1 / t2:.2f}, memory ratio {m1 / max(m2, 1):.2f}")


if __name__ == '__main__': main()
