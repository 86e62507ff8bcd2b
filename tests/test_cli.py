"The `cfw_nb` command as a user runs it: the main job and its errors."
import json

import numpy as np
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


def _bundle(path):
    import numpy as np
    from cfw_nb.cfw import clustered_features
    from cfw_nb.features import FeatureBundle, save_bundle
    x, _ = clustered_features(500, 32, clusters=8, seed=2)
    samples = pd.DataFrame({'path': [f'imgs/train/c{i % 8}/img_{i}.jpg' for i in range(500)], 'split': ['train'] * 400 + ['test'] * 100})
    return save_bundle(FeatureBundle(x, np.arange(500) % 8, samples, {'format': 'cfw_nb.features/1'}), path)


def test_weights_from_a_bundle(tmp_path):
    from cfw_nb.cfw import CFWConfig, align_weights, load_weights
    bundle = _bundle(tmp_path/'feats')
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'w', '--preset', 'hdbscan', '--chunk-size', '200', '--workers', '2'])
    assert r.returncode == 0, r.stderr
    assert '400 samples in 2 chunks' in r.stdout and str(tmp_path/'w') in r.stdout
    w = load_weights(tmp_path/'w')
    assert w.config.chunk_size == 200 and w.meta['split'] == 'train' and len(w.table) == 400
    keys = pd.read_csv(bundle/'samples.csv')['path'][:400]
    assert (align_weights(w, keys) == w.weights).all()
    again = [CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'w', '--preset', 'hdbscan', '--chunk-size', '200']
    r = run(again)                                                                   # the same stage again: reused
    assert r.returncode == 0 and 'reused' in r.stdout, r.stderr
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'w'])             # other settings: refused, never overwritten
    assert r.returncode == 2 and 'made with other parameters' in r.stderr and 'Traceback' not in r.stderr
    assert load_weights(tmp_path/'w').config == w.config
    assert w.config.recluster == (5,)
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'one', '--preset', 'hdbscan', '--chunk-size', '200', '--recluster'])   # one pass
    assert r.returncode == 0, r.stderr
    one = load_weights(tmp_path/'one')
    assert one.config.recluster == () and (one.table['cluster'] < 0).sum() > (w.table['cluster'] < 0).sum()
    kept = one.table['cluster'] >= 0
    assert (w.table['cluster'][kept] == one.table['cluster'][kept]).all()                # the first pass's clusters stay
    assert w.config == CFWConfig.hdbscan(chunk_size=200)
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'ref', '--preset', 'reference', '--chunk-size', '100'])
    assert r.returncode == 0, r.stderr
    assert load_weights(tmp_path/'ref').config == CFWConfig.reference(chunk_size=100)


def test_weights_any_scheme(tmp_path):
    from cfw_nb.cfw import CFWConfig, compute_cfw, load_weights
    bundle = _bundle(tmp_path/'feats')
    x = np.load(bundle/'features.npy')[:400]
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'d'])                  # the default settings
    assert r.returncode == 0, r.stderr
    assert load_weights(tmp_path/'d').config == CFWConfig() and (load_weights(tmp_path/'d').weights == compute_cfw(x).weights).all()
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'k', '--scheme', 'kmeans', '--levels', '2', '--branch', '4',
             '--cluster-size', '8', '--mix', '0.2', '--chunking', 'whole'])
    assert r.returncode == 0, r.stderr
    want = CFWConfig(scheme='kmeans', levels=2, branch=4, cluster_size=8, mix=0.2, chunking='whole')
    k = load_weights(tmp_path/'k')
    assert k.config == want and (k.weights == compute_cfw(x, want).weights).all()
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'n', '--scheme', 'density', '--mix', '1'])
    assert r.returncode == 2 and 'CFWConfig.mix must be in [0, 1)' in r.stderr and not (tmp_path/'n').exists()


def test_weights_bad_input(tmp_path):
    bundle = _bundle(tmp_path/'feats')
    (tmp_path/'cfw.json').write_text('{"chunk_sise": 100}')
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'w', '--config', tmp_path/'cfw.json'])
    assert r.returncode == 2 and "unknown key 'chunk_sise'; did you mean 'chunk_size'?" in r.stderr
    r = run([CLI, 'weights', '--bundle', tmp_path/'nothing', '--out', tmp_path/'w'])
    assert r.returncode == 2 and 'is not a feature bundle' in r.stderr
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'w', '--preset', 'hdbscan', '--chunk-size', '10'])
    assert r.returncode == 2 and 'chunk_size 10 < min_cluster_size 25' in r.stderr
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'w', '--preset', 'hdbscan', '--config', tmp_path/'cfw.json'])
    assert r.returncode == 2 and 'not allowed with argument' in r.stderr
    r = run([CLI, 'weights', '--bundle', bundle, '--out', tmp_path/'w', '--recluster', '5', '1'])
    assert r.returncode == 2 and 'recluster sizes must be at least 2' in r.stderr
    assert not (tmp_path/'w').exists()
