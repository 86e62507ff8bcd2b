"""Check that the notebooks are clean and that the library and README are in sync with them.

Runs `nbdev_export`, `nbdev_clean` and the README build on a scratch copy of the working tree and fails,
naming the files, if any of them would change something. The working tree itself is never modified.
Also fails on a code cell that mixes top-level imports with other code: the docs build (nbdev's processors,
as `nbdev_docs` runs them) executes every cell holding an import, so such a cell runs out of context there.

    python tools/check_nbs.py [--root DIR]   # check; exit status 1 on any difference
"""
import argparse, ast, filecmp, json, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SKIP = {'.git', '.venv', '_proc', '_docs', '_preview', 'runs', '__pycache__', '.ipynb_checkpoints', '.pytest_cache', '_artifacts'}
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


def mixed_import_cells(root=ROOT) -> list:
    "`notebook cell N` of every cell the docs build would execute for its imports that also holds other code."
    found = []
    for nb in notebooks(root):
        for i, cell in enumerate(json.loads(nb.read_text())['cells']):
            src = ''.join(cell['source'])
            if cell['cell_type'] != 'code' or 'nbdev_export()' in src: continue
            directives = [l.lstrip('#| ').split(':')[0].split()[0] for l in src.splitlines() if l.startswith('#|') and l[2:].strip()]
            if {'export', 'exports', 'exporti', 'exec_doc'} & set(directives) or 'eval: false' in src: continue
            code = '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!')))
            try: body = ast.parse(code).body
            except SyntaxError: continue
            has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for t in body for n in ast.walk(t))
            if has_import and not all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in body): found.append(f"{nb.relative_to(root)} cell {i}")
    return found


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
    problems += [f"{c}: mixes imports with other code (the docs build executes it; move the imports to an import cell)"
                 for c in mixed_import_cells(root)]
    if problems:
        print("Notebooks, library and README are out of sync or unclean:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"{len(notebooks(root))} notebooks clean; library and README in sync")


if __name__ == '__main__': main()
