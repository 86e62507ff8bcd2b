"The `cfw_nb` command as a user runs it: the main job and its errors."
import json

import pandas as pd

from conftest import BIN, run
from cfw_nb.ingestion import FASHION_MNIST_CLASSES, long_tail_counts

CLI = BIN/'cfw_nb'


def test_run_fashion_mnist_default(tmp_path):
    r = run([CLI, 'run', '--runs-dir', tmp_path])
    assert r.returncode == 0, r.stderr
    (run_dir,) = tmp_path.iterdir()
    counts = pd.read_csv(run_dir/'class_counts.csv', index_col='class')
    assert counts.index.tolist() == FASHION_MNIST_CLASSES
    assert counts['kept'].tolist() == long_tail_counts(6000, 10, 100)
    assert counts['test'].tolist() == [1000]*10 and counts['available'].tolist() == [6000]*10
    meta = json.loads((run_dir/'run.json').read_text())
    assert meta['config']['data']['imbalance_ratio'] == 100.0 and meta['seed'] == 0
    assert len(meta['data_fingerprint']) == 64 and meta['versions']['torch']
    assert meta['git'] is None or len(meta['git']['commit']) == 40
    assert 'Ankle boot' in r.stdout and str(run_dir) in r.stdout


def test_run_is_reproducible(tmp_path):
    for name in ('a', 'b'):
        assert run([CLI, 'run', '--dataset', 'digits', '--ratio', '20', '--seed', '3', '--runs-dir', tmp_path, '--name', name]).returncode == 0
    fps = {json.loads(p.joinpath('run.json').read_text())['data_fingerprint'] for p in tmp_path.iterdir()}
    assert len(fps) == 1


def test_bad_ratio(tmp_path):
    r = run([CLI, 'run', '--ratio', '0.5', '--runs-dir', tmp_path])
    assert r.returncode == 2 and 'imbalance ratio must be >= 1' in r.stderr and 'Traceback' not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_config_key(tmp_path):
    cfg = tmp_path/'cfg.json'
    cfg.write_text(json.dumps({'data': {'dataset': 'digits'}, 'sed': 1}))
    r = run([CLI, 'run', '--config', cfg, '--runs-dir', tmp_path/'runs'])
    assert r.returncode == 2 and "unknown key 'sed'; did you mean 'seed'?" in r.stderr and 'cfg.json' in r.stderr
    assert not (tmp_path/'runs').exists()


def test_missing_dataset(tmp_path):
    r = run([CLI, 'run', '--data-root', tmp_path, '--runs-dir', tmp_path/'runs'])
    assert r.returncode == 2
    for way in ('apt-get install dataset-fashion-mnist', 'FashionMNIST/raw', 'download=True'): assert way in r.stderr
    assert not (tmp_path/'runs').exists()


def test_config_prints_resolved_json():
    r = run([CLI, 'config', '--dataset', 'digits', '--ratio', '5'])
    assert r.returncode == 0
    assert json.loads(r.stdout)['data'] == {'dataset': 'digits', 'root': None, 'download': False, 'imbalance_ratio': 5.0,
                                            'n_max': None, 'seed': 0}
