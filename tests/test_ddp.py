"The engine under torchrun: 2 CPU ranks (gloo) reproduce a single process on the same global batches."
import json, os

import numpy as np
import pytest

from conftest import BIN, ROOT, run


def two_ranks_and_one(script:str, out):
    "Run `tests/<script>` under torchrun with 2 CPU ranks into out/ddp, then as one process (--single) into out/single."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = run([BIN/'torchrun', '--standalone', '--nproc_per_node', '2', ROOT/'tests'/script, '--out', out/'ddp'], env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r = run([BIN/'python', ROOT/'tests'/script, '--out', out/'single', '--single'], env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    two_ranks_and_one('ddp_train.py', out)
    load = lambda p: json.loads(p.read_text())
    return out, [load(out/'ddp'/f'result-ddp-rank{r}.json') for r in (0, 1)], load(out/'single'/'result-single-rank0.json')


def test_two_ranks_match_one_process(results):
    _, (r0, r1), single = results
    assert (r0['world'], r1['world'], single['world']) == (2, 2, 1)
    for key in ('train_loss', 'val_loss', 'val_acc'):
        np.testing.assert_allclose(r0['history'][key], single['history'][key], rtol=1e-4, atol=1e-6, err_msg=key)
    assert r0['history']['step'] == single['history']['step'] == [0, 16, 32]     # 1024 / 64 global batch = 16 steps per epoch
    for a, b in zip(r0['weights'], single['weights']): np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert single['history']['train_loss'][-1] < single['history']['train_loss'][0]


def test_ranks_agree_and_metrics_cover_the_whole_validation_set(results):
    _, (r0, r1), _ = results
    assert r0['history'] == r1['history']                                # reduced metrics are the same on every rank
    assert r0['weights'] == r1['weights']                                # DDP keeps replicas identical
    assert r0['history']['val_n'] == [300.0] * 3                          # each validation sample once: no padding, no loss


def test_only_rank_zero_writes(results):
    out, _, _ = results
    files = sorted(p.name for p in (out/'ddp'/'run').iterdir())
    assert files == ['best.pt', 'history.jsonl', 'last.pt']                # no stray temp files from a second writer
    assert len((out/'ddp'/'run'/'history.jsonl').read_text().splitlines()) == 3


def edge(tmp_path, case):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = run([BIN/'torchrun', '--standalone', '--nproc_per_node', '2', ROOT/'tests'/'ddp_edge.py', '--out', tmp_path, '--case', case], env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return [json.loads((tmp_path/f"{case}-rank{k}.json").read_text()) for k in (0, 1)]


def test_rank_without_validation_batches_does_not_hang(tmp_path):
    r0, r1 = edge(tmp_path, 'tiny-val')
    assert r0['val_n'] == r1['val_n'] == [1.0, 1.0] and r0['val_loss'] == r1['val_loss']


def test_skipped_last_micro_batch_keeps_replicas_identical(tmp_path):
    r0, r1 = edge(tmp_path, 'skip-accum')
    assert r0['skipped'] == r1['skipped'] == 2
    assert r0['weights'] == r1['weights']


def test_run_dir_on_one_rank_is_an_error_not_a_hang(tmp_path):
    r0, r1 = edge(tmp_path, 'rundir-rank0')
    assert r0['error'] == r1['error'] and 'run_dir must be given on every rank or on none' in r0['error']


@pytest.mark.parametrize('config', ['{}', '{"scheme": "kmeans", "levels": 2, "branch": 4, "mix": 0.2}', '{"scheme": "density", "cap": 5.0}'])
def test_distributed_weighted_sampler_in_the_engine(tmp_path, config):
    "2 ranks train on disjoint shares of one weighted draw per epoch; together they are the single-process draw (CFW's default and other label-free weights)."
    from cfw_nb.cfw import CFWConfig, WeightedSampler, clustered_features, compute_cfw
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = run([BIN/'torchrun', '--standalone', '--nproc_per_node', '2', ROOT/'tests'/'ddp_cfw_sampler.py', '--out', tmp_path, '--config', config],
            env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r0, r1 = [json.loads((tmp_path/f'sampler-rank{k}.json').read_text()) for k in (0, 1)]
    assert r0['weights'] == r1['weights'] and r0['world'] == 2
    cfg = CFWConfig.from_dict({'chunk_size': 300, **json.loads(config)})
    assert r0['weights'] == compute_cfw(clustered_features(600, 16, clusters=8, seed=0)[0], cfg).weights.tolist()   # what one process computes
    single = WeightedSampler(r0['weights'], num_samples=502, seed=7)        # 501 draws rounded up to 2 x 251
    for epoch in (0, 1):
        a, b = r0['seen'][epoch], r1['seen'][epoch]
        assert len(a) == len(b) == 251
        single.set_epoch(epoch)
        assert [i for pair in zip(a, b) for i in pair] == single.draw(502).tolist()
    assert r0['seen'][0] != r0['seen'][1]                                   # the engine moved the sampler to the next epoch
    for r in (r0, r1): assert 'the ranks hold different weights, num_samples or seed' in r['mismatch']


def test_experiment_runner_under_ddp_matches_one_process(tmp_path):
    "run_experiment under torchrun: weighted samplers split one global draw; the results equal one process on the same global batches."
    two_ranks_and_one('ddp_runner.py', tmp_path)
    load = lambda p: json.loads(p.read_text())
    d0, d1, single = load(tmp_path/'ddp'/'table-rank0.json'), load(tmp_path/'ddp'/'table-rank1.json'), load(tmp_path/'single'/'table-rank0.json')
    assert d0 == d1                                                          # every rank returns the same table
    assert [(x['sampler'], x['steps']) for x in d0] == [(x['sampler'], x['steps']) for x in single] == [('cfw', 48), ('class_balanced', 48)]
    for a, b in zip(d0, single):
        for k in ('val_bacc', 'val_loss', 'test_bacc', 'test_macro_f1', 'test_acc'):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-3, atol=2e-3, err_msg=f"{a['sampler']} {k}")
    runs = tmp_path/'ddp'/'exp'/'runs'
    assert sorted(p.name for p in runs.iterdir()) == ['cfw-seed0', 'class_balanced-seed0']
    assert sorted(p.name for p in (runs/'cfw-seed0').iterdir()) == ['best.pt', 'cfw_nb.manifest.json', 'evaluations.jsonl', 'history.jsonl', 'last.pt', 'result.json']
