"""Run notebooks in place and keep their outputs, so the docs show results printed by the code beside them.

Cells flagged `#| slow` or `#| gpu` are skipped unless their flag is given (`--flags slow`); a skipped cell keeps
the outputs it has. Cells that call `nbdev_export(` are never run. The notebook is then cleaned with
`nbdev_clean` (metadata, ids). Widget outputs are dropped (their state is never kept; the docs cannot run them);
progress bars are the caller's job (pass `progress=False`).

    python tools/run_with_outputs.py nbs/06_metrics.ipynb nbs/07_training.ipynb [--flags slow]
"""
import argparse, os, subprocess, sys
from pathlib import Path

from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

BIN = Path(sys.executable).parent
WIDGET = 'application/vnd.jupyter.widget-view+json'


def flags_of(source:str) -> set:
    "The test flags (`#| slow`, `#| gpu`, ...) on a cell's first lines."
    out = set()
    for line in source.splitlines():
        if not line.startswith('#|'): break
        out.update(line[2:].split())
    return out


def run(path:Path, flags:set):
    nb = read_nb(path)
    skip = lambda cell: (cell.cell_type != 'code' or 'nbdev_export(' in cell.source
                         or bool(flags_of(cell.source) & ({'slow', 'gpu'} - flags)))
    shell = CaptureShell(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    try: shell.run_all(nb, exc_stop=True, preproc=skip)
    except Exception:
        sys.stderr.write(shell.prettytb(fname=path) + '\n'); raise SystemExit(f"{path}: a cell failed; the notebook was not written")
    finally: os.chdir(cwd)
    for cell in nb.cells:
        if 'outputs' in cell: cell.outputs = [o for o in cell.outputs if WIDGET not in o.get('data', {})]
    write_nb(nb, path)
    subprocess.run([str(BIN/'nbdev_clean'), '--fname', str(path)], check=True)
    print(f"{path}: run and written with its outputs")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('notebooks', nargs='+')
    p.add_argument('--flags', default='', help='flagged cells to run too, e.g. "slow"')
    a = p.parse_args(argv)
    os.environ.setdefault('MPLBACKEND', 'Agg'); os.environ['IN_TEST'] = '1'   # no progress bars (cfw_nb shows them only outside tests)
    for nb in a.notebooks: run(Path(nb).resolve(), set(a.flags.split()))


if __name__ == '__main__': main()
