"""Data and features for the sweep of label-free samplers: four long-tailed datasets and their cached features.

Datasets (embedded data only, offline, deterministic):
- 'fmnist-lt100', 'fmnist-lt10': Fashion-MNIST with a long-tailed training split (ratio 100 / 10, head class 1,500
  images) and a balanced validation split of 100 images per class from the unused training images, as notebook 07b;
  the test split is the whole Fashion-MNIST test set;
- 'digits-lt': scikit-learn's 8x8 digits (a quarter of each class held out as test), long-tailed with ratio 20 and
  head class 100, validation 20 per class from the unused training images; upsampled to 28x28 for the same CNN;
- 'synthetic': a long-tailed mixture of Gaussian modes (1 to 3 per class) in 64-D, whose training mode ids are known.

Feature kinds: 'pixels' (flattened images), 'ssl' (SimCLR small CNN trained on the training images, labels unused),
'effnet' (ImageNet EfficientNet-Lite0), and for 'synthetic' only 'raw' (the vectors). Each is cached as
root/<dataset>/<kind>_<split>.npy, with root/<dataset>/meta.json and the SimCLR run in root/<dataset>/ssl/.
Running this file computes everything missing; a killed run resumes where it stopped. The default root is
$CFW_NB_SWEEP/data, with CFW_NB_SWEEP defaulting to ~/.cache/cfw_nb/sweep.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/labelfree_data.py [--root DIR] [--datasets ...] [--kinds ...]
"""
import argparse, logging, os, time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from cfw_nb.core import atomic_write, write_json
from cfw_nb.engine import TrainConfig
from cfw_nb.ingestion import load_digits_set, load_fashion_mnist, long_tail_counts, make_long_tail
from cfw_nb.ssl import AugConfig, SSLConfig, build_simclr, create_backbone, pretrain_simclr
from cfw_nb.training import add_validation_split

log = logging.getLogger('labelfree_data')

DATASETS = ('fmnist-lt100', 'fmnist-lt10', 'digits-lt', 'synthetic')
FEATURES = {'fmnist-lt100': ('ssl', 'effnet', 'pixels'), 'fmnist-lt10': ('ssl', 'effnet', 'pixels'),
            'digits-lt': ('ssl', 'effnet', 'pixels'), 'synthetic': ('raw',)}
KIND_ORDER = ('raw', 'pixels', 'ssl', 'effnet')  # cheapest first
SPLITS = ('train', 'val', 'test')
SWEEP = Path(os.environ.get('CFW_NB_SWEEP', Path.home()/'.cache'/'cfw_nb'/'sweep'))   # the sweep's data and runs
DEFAULT_ROOT = SWEEP/'data'
BATCH = 256  # images per forward pass when computing features

# image datasets: source, long-tail ratio and head-class count of the training split, validation images per class
LONG_TAIL = {'fmnist-lt100': {'source': 'fashion_mnist', 'ratio': 100, 'n_max': 1500, 'val_per_class': 100, 'seed': 0},
             'fmnist-lt10': {'source': 'fashion_mnist', 'ratio': 10, 'n_max': 1500, 'val_per_class': 100, 'seed': 0},
             'digits-lt': {'source': 'digits', 'test_size': 0.25, 'ratio': 20, 'n_max': 100, 'val_per_class': 20, 'seed': 0}}
# noise 0.25: a logistic regression on balanced data reaches about 90% balanced accuracy (see `linear_check`)
SYNTHETIC = {'seed': 0, 'n_classes': 10, 'dim': 64, 'max_modes': 3, 'noise': 0.25, 'n_max': 1000, 'ratio': 50,
             'val_per_class': 100, 'test_per_class': 1000}
EFFNET = {'backbone': 'efficientnet_lite0_imagenet', 'input': 'grey to 3 channels, bilinear to 224 px, (x - 0.5) / 0.5'}


def _check(name:str, kind:str|None=None):
    "Raise a clear error for an unknown dataset, or a feature kind the dataset does not have."
    if name not in FEATURES: raise ValueError(f"unknown dataset {name!r}; datasets are {DATASETS}")
    if kind is not None and kind not in FEATURES[name]: raise ValueError(f"dataset {name!r} has feature kinds {FEATURES[name]}, not {kind!r}")


def _long_tail_set(name:str):
    "The `SampleSet` of an image dataset, with its long-tailed 'train', balanced 'val' and 'test' splits."
    s = LONG_TAIL[name]
    full = load_fashion_mnist() if s['source'] == 'fashion_mnist' else load_digits_set(test_size=s['test_size'], seed=s['seed'])
    lt = make_long_tail(full, ratio=s['ratio'], seed=s['seed'], n_max=s['n_max'])
    return add_validation_split(full, lt, per_class=s['val_per_class'], seed=s['seed'])


def image_data(name:str) -> dict:
    "The splits of an image dataset as (N, 1, 28, 28) images in [0, 1] and labels, with the class names."
    lt = _long_tail_set(name)
    splits = {s: lt.split(s).to_tensors() for s in SPLITS}
    if lt.images.shape[1:] != (28, 28): splits = {s: (F.interpolate(x, size=28, mode='bilinear'), y) for s, (x, y) in splits.items()}
    return {**splits, 'classes': lt.classes}


def _mixture(rng:np.random.Generator) -> tuple:
    "Mode centres (random unit directions) and the class of each mode, 1 to `max_modes` modes per class."
    c = SYNTHETIC
    mode_class = np.repeat(np.arange(c['n_classes']), rng.integers(1, c['max_modes'] + 1, size=c['n_classes']))
    centres = rng.standard_normal((len(mode_class), c['dim']))
    return centres / np.linalg.norm(centres, axis=1, keepdims=True), mode_class


def _draw(rng:np.random.Generator, centres:np.ndarray, mode_class:np.ndarray, counts:list) -> tuple:
    "`counts[c]` points of each class c, each from a mode of its class chosen uniformly, in random order: (x, y, modes)."
    modes = np.concatenate([rng.choice(np.flatnonzero(mode_class == c), n) for c, n in enumerate(counts)])
    modes = modes[rng.permutation(len(modes))]
    x = centres[modes] + SYNTHETIC['noise'] * rng.standard_normal((len(modes), centres.shape[1]))
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(mode_class[modes]), torch.from_numpy(modes)


def synthetic_data() -> dict:
    "The synthetic mixture's splits as (N, 64) vectors and labels, the class names, and the mode id of each training row."
    c = SYNTHETIC
    rng = np.random.default_rng(c['seed'])
    centres, mode_class = _mixture(rng)
    counts = {'train': long_tail_counts(c['n_max'], c['n_classes'], c['ratio']),
              'val': [c['val_per_class']] * c['n_classes'], 'test': [c['test_per_class']] * c['n_classes']}
    drawn = {s: _draw(rng, centres, mode_class, counts[s]) for s in SPLITS}
    return {**{s: (x, y) for s, (x, y, _) in drawn.items()}, 'classes': [f'class{k}' for k in range(c['n_classes'])],
            'modes': drawn['train'][2]}


def load_split_data(name:str) -> dict:
    "Dataset `name`: 'train', 'val', 'test' as (x float32, y int64) tensors, 'classes', and for 'synthetic' the training 'modes'."
    _check(name)
    return synthetic_data() if name == 'synthetic' else image_data(name)


def ssl_config(name:str) -> SSLConfig:
    "The SimCLR run of an image dataset: notebook 07b's settings."
    _check(name, 'ssl')
    # digits-lt's 335 training images make 2 batches of 128 per epoch: 300 epochs give 600 steps (fmnist-lt100: 30
    # epochs, 870 steps); and no flips (AugConfig.digits28), which would turn some digits into others
    digits = name == 'digits-lt'
    return SSLConfig(batch_size=128, temperature=0.2, aug=AugConfig.digits28() if digits else AugConfig.grey28(),
                     train=TrainConfig(epochs=300 if digits else 30, optimizer='adamw', lr=2e-3, weight_decay=1e-4,
                                       schedule='cosine', seed=0, progress=False))


def ssl_checkpoint(name:str, root:str|Path=DEFAULT_ROOT) -> tuple:
    "SimCLR trained on the training images of `name` (labels unused) in root/name/ssl/, resuming a killed run: (state dict, config)."
    cfg, run_dir = ssl_config(name), Path(root)/name/'ssl'
    x, y = load_split_data(name)['train']
    model, _ = pretrain_simclr(TensorDataset(x, y), cfg, run_dir=run_dir, resume=(run_dir/'last.pt').exists())
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, cfg


def _encoder(name:str, kind:str, root:Path):
    "The function mapping a batch of inputs to features of `kind` (training SimCLR first if needed)."
    if kind in ('raw', 'pixels'): return lambda x: x.flatten(1)
    if kind == 'ssl':
        state, cfg = ssl_checkpoint(name, root)
        model = build_simclr(cfg)
        model.load_state_dict(state)
        return model.eval().encode
    net = create_backbone(EFFNET['backbone'])[0].eval()
    return lambda x: net((F.interpolate(x.expand(-1, 3, -1, -1), size=224, mode='bilinear') - 0.5) / 0.5)


@torch.no_grad()
def _embed(encode, x:torch.Tensor) -> np.ndarray:
    "Features of all rows of `x`, in batches of `BATCH`, as a float32 array."
    return torch.cat([encode(b).float() for b in x.split(BATCH)]).numpy()


def _save_npy(path:Path, a:np.ndarray):
    "Write `a` to `path` through a temporary file in the same folder, so a killed run never leaves a partial file."
    with atomic_write(path, 'wb') as f: np.save(f, a)


def settings(name:str) -> dict:
    "How dataset `name` and its features are made."
    if name == 'synthetic': return {'synthetic': SYNTHETIC}
    return {'long_tail': LONG_TAIL[name], 'ssl': ssl_config(name).to_dict(), 'effnet': EFFNET}


def write_meta(name:str, data:dict, folder:Path):
    "Record the split sizes, training class counts and settings of `name` in folder/meta.json."
    counts = np.bincount(data['train'][1].numpy(), minlength=len(data['classes']))
    meta = {'dataset': name, 'sizes': {s: len(data[s][1]) for s in SPLITS}, 'classes': data['classes'],
            'train_counts': counts.tolist(), 'feature_kinds': FEATURES[name], 'settings': settings(name)}
    if 'modes' in data: meta['train_mode_counts'] = np.bincount(data['modes'].numpy()).tolist()
    write_json(folder/'meta.json', meta)


def features(name:str, kind:str, root:str|Path=DEFAULT_ROOT) -> dict:
    "Features `kind` of every split of `name` as float32 (N, D) arrays, computed once and cached in root/name/<kind>_<split>.npy."
    _check(name, kind)
    folder = Path(root)/name
    paths = {s: folder/f'{kind}_{s}.npy' for s in SPLITS}
    missing = [s for s, p in paths.items() if not p.is_file()]
    if missing:
        data = load_split_data(name)
        write_meta(name, data, folder)
        encode = _encoder(name, kind, Path(root))
        for s in missing:
            t0 = time.perf_counter()
            _save_npy(paths[s], _embed(encode, data[s][0]))
            log.info("%s %s %s: %d rows in %.1f s", name, kind, s, len(data[s][0]), time.perf_counter() - t0)
    return {s: np.load(p) for s, p in paths.items()}


def linear_check(data:dict) -> float:
    "Balanced accuracy on 'val' of a logistic regression fitted on the balanced 'test' split: how much the classes overlap."
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    clf = LogisticRegression(max_iter=2000).fit(*(t.numpy() for t in data['test']))
    return balanced_accuracy_score(data['val'][1].numpy(), clf.predict(data['val'][0].numpy()))


def describe(name:str):
    "Print the split sizes and training class counts of `name` (and the linear check of 'synthetic')."
    data = load_split_data(name)
    sizes = {s: len(data[s][1]) for s in SPLITS}
    counts = dict(zip(data['classes'], np.bincount(data['train'][1].numpy(), minlength=len(data['classes'])).tolist()))
    print(f"{name}: sizes {sizes}; train class counts {counts}", flush=True)
    if name == 'synthetic':
        print(f"  {int(data['modes'].max()) + 1} modes, training rows per mode {np.bincount(data['modes'].numpy()).tolist()}; "
              f"logistic regression on balanced data: {linear_check(data):.1%} balanced accuracy", flush=True)


def prepare(names:list, kinds:list, root:Path):
    "Compute every requested feature kind of every requested dataset, cheapest kinds first, printing the seconds of each."
    for name in names: describe(name)
    for kind in (k for k in KIND_ORDER if k in kinds):
        for name in (n for n in names if kind in FEATURES[n]):
            t0 = time.perf_counter()
            shapes = {s: a.shape for s, a in features(name, kind, root).items()}
            print(f"{name} {kind}: {shapes} in {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', type=Path, default=DEFAULT_ROOT)
    p.add_argument('--datasets', nargs='+', default=list(DATASETS), choices=DATASETS)
    p.add_argument('--kinds', nargs='+', default=list(KIND_ORDER), choices=KIND_ORDER)
    args = p.parse_args()
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(name)s: %(message)s')
    prepare(args.datasets, args.kinds, args.root)
