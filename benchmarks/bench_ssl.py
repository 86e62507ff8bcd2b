"""SimCLR training throughput: batched augmentation on the training device against per-image augmentation in DataLoader workers.

Same model (SimCLR with the small CNN), same data (Fashion-MNIST training images), same batch size, same
engine loop; only where the augmentation runs differs:
- batched: `BatchAugment` inside the model, on the whole batch, on the training device (here the CPU);
- per-image: torchvision transforms per image in `--workers` DataLoader worker processes (`TwoViews`).
Runs alternate (batched, per-image, ...) and the median images per second of each is compared. The same is
measured for the augmentation alone (two views per image, no model), which is the part that differs: where the
model's forward and backward dominate the step (a small CPU, as here), training throughput hides it; on a GPU,
where the model step is fast, the augmentation is the bottleneck. `--width` sets the CNN's width (8 makes the
model cheap, close to the GPU situation).
`--preset color224` measures the augmentation alone at the 224 px colour defaults (driving frames' setting), on the
Fashion-MNIST images resized to 256 px RGB (pixel content does not change the cost); SimCLR training at 224 px
is not run there, a CPU needs minutes per batch for it.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ssl.py [--images 4096] [--batch-size 256] [--workers 2] [--width 32] [--repeats 3]
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ssl.py --preset color224 --images 512 --batch-size 64
"""
import argparse, statistics, time

import torch
from torch.utils.data import TensorDataset

from cfw_nb.engine import TrainConfig, Trainer, make_loader
from cfw_nb.ingestion import load_fashion_mnist
from cfw_nb.ssl import AugConfig, SSLConfig, TwoViews, per_sample_transform, simclr_loss


def augment_only(ds, aug:AugConfig, batched:bool, batch_size:int, workers:int) -> float:
    "Images per second through the augmentation alone (two views each)."
    if batched:
        from cfw_nb.ssl import BatchAugment
        f, dl = BatchAugment(aug), make_loader(ds, batch_size, drop_last=True, device=torch.device('cpu'))
        t0 = time.perf_counter()
        for x, _ in dl: f(x); f(x)
    else:
        dl = make_loader(TwoViews(ds, per_sample_transform(aug)), batch_size, drop_last=True, num_workers=workers, device=torch.device('cpu'))
        t0 = time.perf_counter()
        for _ in dl: pass
    return len(dl) * batch_size / (time.perf_counter() - t0)


def run(ds, batched:bool, batch_size:int, workers:int, width:int) -> float:
    "Images per second of SimCLR training (one epoch on the engine)."
    cfg = SSLConfig(aug=AugConfig.grey28())
    torch.manual_seed(0)
    from cfw_nb.ssl import SimCLR, create_backbone
    backbone, dim = create_backbone('smallcnn', in_chans=1, width=width)
    model = SimCLR(backbone, dim, cfg.aug, cfg.proj_hidden, cfg.proj_dim, cfg.mean, cfg.std)
    if not batched: model.augment = None
    data = ds if batched else TwoViews(ds, per_sample_transform(cfg.aug))
    dl = make_loader(data, batch_size, drop_last=True, num_workers=0 if batched else workers, device=torch.device('cpu'))
    t = Trainer(model, simclr_loss(cfg.temperature), dl, cfg=TrainConfig(epochs=1, schedule='constant', progress=False), device='cpu')
    t0 = time.perf_counter(); t.fit()
    return len(dl) * batch_size / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--images', type=int, default=4096)
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--width', type=int, default=32, help='width of the small CNN')
    p.add_argument('--preset', choices=('grey28', 'color224'), default='grey28', help='augmentation defaults (color224: augmentation alone)')
    a = p.parse_args()
    X, Y = load_fashion_mnist().split('train').to_tensors()
    X, Y = X[:a.images], Y[:a.images]
    if a.preset == 'color224': X = torch.nn.functional.interpolate(X, size=256, mode='bilinear').expand(-1, 3, -1, -1).contiguous()
    ds, aug = TensorDataset(X, Y), getattr(AugConfig, a.preset)()
    print(f"preset={a.preset} images={a.images} of {tuple(X.shape[1:])} batch={a.batch_size} workers(per-image)={a.workers} "
          f"threads={torch.get_num_threads()} repeats={a.repeats}" + (f" cnn width={a.width}" if a.preset == 'grey28' else ''))
    runs = [('augmentation alone', lambda b: augment_only(ds, aug, b, a.batch_size, a.workers))]
    if a.preset == 'grey28': runs.append(('SimCLR training', lambda b: run(ds, b, a.batch_size, a.workers, a.width)))
    for title, fn in runs:
        res = {True: [], False: []}
        for _ in range(a.repeats):
            for batched in (True, False): res[batched].append(fn(batched))
        b, s = statistics.median(res[True]), statistics.median(res[False])
        print(f"{title}: batched on-device {b:.0f} images/s (runs {', '.join(f'{v:.0f}' for v in res[True])}); "
              f"per-image in workers {s:.0f} images/s (runs {', '.join(f'{v:.0f}' for v in res[False])}); ratio {b / s:.2f}")

if __name__ == '__main__': main()
