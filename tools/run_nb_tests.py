"""Run the notebooks with nbdev_test and fail unless every notebook ran and passed.

`nbdev_test` exits 0 when its path filter matches nothing; this wrapper counts the notebooks it actually
completed and compares them with the notebooks under nbs/.

    python tools/run_nb_tests.py [--n_workers 2] [--flags "slow"] [--root DIR]
"""
import argparse, os, subprocess, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_nbs import ROOT, notebooks

BIN = Path(sys.executable).parent


def cuda_available() -> bool:
    "Whether torch sees a GPU (asked in a subprocess, so this wrapper stays light)."
    r = subprocess.run([sys.executable, '-c', 'import torch; print(torch.cuda.is_available())'], capture_output=True, text=True)
    return r.stdout.strip() == 'True'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--n_workers', type=int, default=2)
    p.add_argument('--flags', default='', help='test flags to run, e.g. "slow"; "gpu" is added when CUDA is available')
    p.add_argument('--root', default=str(ROOT), help='the project folder (holding settings.ini)')
    a = p.parse_args(argv)
    root = Path(a.root).resolve()
    expected = notebooks(root)
    if not expected: sys.exit(f"no notebooks under {root/'nbs'}: nothing to test")
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), 'MKL_NUM_THREADS': os.environ.get('MKL_NUM_THREADS', '1')}
    flags = a.flags.split()
    if 'gpu' not in flags and cuda_available(): flags.append('gpu')
    cmd = [str(BIN/'nbdev_test'), '--n_workers', str(a.n_workers), '--do_print', '--timing'] + (['--flags', ' '.join(flags)] if flags else [])
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    completed = 0
    for line in proc.stdout:
        sys.stdout.write(line); sys.stdout.flush()
        completed += line.startswith('- Completed ')
    if proc.wait(): sys.exit(f"nbdev_test failed (exit status {proc.returncode})")
    if completed != len(expected): sys.exit(f"nbdev_test completed {completed} notebooks, expected {len(expected)}")
    print(f"all {completed} notebooks passed" + (f" (flags: {' '.join(flags)})" if flags else ''))


if __name__ == '__main__': main()
