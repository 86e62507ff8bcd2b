"The test command's checks bite: unsynced library, unclean notebook, stale README, import cell with code, failing notebook, no notebooks."
import json

from conftest import BIN, run


def check(tree):
    return run([BIN/'python', tree/'tools'/'check_nbs.py', '--root', tree])


def test_clean_tree_passes(scratch_tree):
    r = check(scratch_tree)
    assert r.returncode == 0, r.stderr


def test_hand_edited_library_fails(scratch_tree):
    core = scratch_tree/'cfw_nb'/'core.py'
    core.write_text(core.read_text().replace('return seed\n', 'return seed + 1\n', 1))
    r = check(scratch_tree)
    assert r.returncode == 1 and 'cfw_nb/core.py: would change (run nbdev_export)' in r.stderr


def test_unclean_notebook_fails(scratch_tree):
    p = scratch_tree/'nbs'/'08_pipeline.ipynb'
    nb = json.loads(p.read_text())
    code = next(c for c in nb['cells'] if c['cell_type'] == 'code')
    code['execution_count'] = 7
    nb['metadata']['widgets'] = {'state': {}}
    p.write_text(json.dumps(nb, indent=1))
    r = check(scratch_tree)
    assert r.returncode == 1 and 'nbs/08_pipeline.ipynb: would change (run nbdev_clean)' in r.stderr


def test_stale_readme_fails(scratch_tree):
    (scratch_tree/'README.md').write_text((scratch_tree/'README.md').read_text().replace('Quick start', 'Quick-start'))
    r = check(scratch_tree)
    assert r.returncode == 1 and 'README.md: would change' in r.stderr


def test_cell_mixing_imports_and_code_fails(scratch_tree):
    p = scratch_tree/'nbs'/'08_pipeline.ipynb'
    nb = json.loads(p.read_text())
    nb['cells'].append({'cell_type': 'code', 'execution_count': None, 'id': 'f00dcafe', 'metadata': {}, 'outputs': [],
                        'source': 'import os\nprint(os.sep)'})
    p.write_text(json.dumps(nb, indent=1) + '\n')
    r = check(scratch_tree)
    assert r.returncode == 1 and f"nbs/08_pipeline.ipynb cell {len(nb['cells']) - 1}: mixes imports with other code" in r.stderr


def test_failing_notebook_fails(scratch_tree):
    for nb in (scratch_tree/'nbs').glob('0*.ipynb'):
        if nb.name != '08_pipeline.ipynb': nb.unlink()           # keep the run short: one notebook
    p = scratch_tree/'nbs'/'08_pipeline.ipynb'
    nb = json.loads(p.read_text())
    nb['cells'].append({'cell_type': 'code', 'execution_count': None, 'id': 'f00dcafe', 'metadata': {}, 'outputs': [],
                        'source': 'from fastcore.test import test_eq\ntest_eq(PipelineConfig().seed, 1)'})
    p.write_text(json.dumps(nb, indent=1))
    r = run([BIN/'python', scratch_tree/'tools'/'run_nb_tests.py', '--root', scratch_tree, '--n_workers', '1'])
    assert r.returncode != 0 and 'AssertionError' in r.stdout and '08_pipeline.ipynb' in r.stdout


def test_no_notebooks_fails(scratch_tree):
    for nb in (scratch_tree/'nbs').glob('*.ipynb'): nb.unlink()
    r = run([BIN/'python', scratch_tree/'tools'/'run_nb_tests.py', '--root', scratch_tree])
    assert r.returncode != 0 and 'nothing to test' in r.stderr
    r = check(scratch_tree)
    assert r.returncode != 0 and 'nothing would be tested' in r.stderr
