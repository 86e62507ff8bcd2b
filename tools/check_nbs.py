"""Check that the notebooks are clean and that the library and README are in sync with them.

Runs `nbdev_export`, `nbdev_clean` and the README build on a scratch copy of the working tree and fails,
naming the files, if any of them would change something. The working tree itself is never modified.

    python tools/check_nbs.py [--root DIR]   # check; exit status 1 on any difference
"""
import argparse, filecmp, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SKIP = {'.git', '.venv', '_proc', '_docs', '_preview', 'runs', '__pycache__', '.ipynb_checkpoints', '.pytest_cache'}
HINTS = {'nbs': 'run nbdev_clean', 'cfw_nb': 'run nbdev_export', 'README.md': 'run ./dev.sh docs'}


def notebooks(root=ROOT):
    "The notebooks nbdev_test runs: nbs/**/*.ipynb outside folders and files starting with '_' or '.'."
    return sorted(p for p in (root/'nbs').rglob('*.ipynb')
                  if not any(part.startswith(('_', '.')) for part in p.relative_to(root/'nbs').parts))


def snapshot(root):
    "Relative path -> file for everything the checks may touch."
    files = [p for d in ('nbs', 'cfw_nb') for p in (root/d).rglob('*') if p.is_file()] + [root/'README.md']
    return {str(p.relative_to(root)): p for p in files
            if p.exists() and not any(part in SKIP for part in p.relative_to(root).parts)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--root', default=str(ROOT), help='the project folder (holding settings.ini)')
    root = Path(p.parse_args(argv).root).resolve()
    if not notebooks(root): sys.exit(f"no notebooks under {root/'nbs'}: nothing would be tested")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)/'tree'
        shutil.copytree(root, tmp, ignore=lambda d, names: [n for n in names if n in SKIP])
        for cmd in ([str(BIN/'nbdev_export')], [str(BIN/'nbdev_clean')], [sys.executable, 'tools/docs_preview.py', '--readme-only']):
            r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
            if r.returncode: sys.exit(f"{' '.join(cmd)} failed on a scratch copy of the tree:\n{r.stdout}{r.stderr}")
        before, after = snapshot(root), snapshot(tmp)
        problems = [f"{k}: {'would be created' if k not in before else 'would be deleted' if k not in after else 'would change'}"
                    f" ({HINTS[k.split('/')[0]]})"
                    for k in sorted(set(before) | set(after))
                    if k not in before or k not in after or not filecmp.cmp(before[k], after[k], shallow=False)]
    if problems:
        print("Notebooks, library and README are out of sync or unclean:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"{len(notebooks(root))} notebooks clean; library and README in sync")


if __name__ == '__main__': main()
