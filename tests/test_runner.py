"The experiment runner survives a kill: continued after SIGKILL, it gives the table of a run that was never interrupted."
import json, os

import pytest

from conftest import BIN, ROOT, run

ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}


def job(out, *extra):
    return run([BIN/'python', ROOT/'tests'/'runner_job.py', '--out', out, *extra], env=ENV, timeout=900)


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp('whole')
    r = job(out)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out/'table.json').read_text())


def test_killed_mid_run_then_continued_equals_uninterrupted(tmp_path, uninterrupted):
    r = job(tmp_path, '--kill-at', 'cfw-seed1:2')
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])                  # killed, as by the OOM killer or a scheduler
    runs = tmp_path/'exp'/'runs'
    assert (runs/'uniform-seed1'/'result.json').exists()                          # runs before the kill are complete
    assert (runs/'cfw-seed1'/'last.pt').exists() and not (runs/'cfw-seed1'/'result.json').exists()
    assert not (runs/'class_balanced-seed0').exists()                             # later runs never started
    assert not (tmp_path/'table.json').exists()
    before = (runs/'cfw-seed1'/'history.jsonl').read_text().splitlines()
    assert len(before) == 2
    r = job(tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    resumed = json.loads((tmp_path/'table.json').read_text())
    assert [(x['sampler'], x['seed']) for x in resumed] == [(x['sampler'], x['seed']) for x in uninterrupted]
    assert resumed == uninterrupted                                               # every number, bit for bit
    assert len({x['steps'] for x in resumed}) == 1                               # the same budget for every sampler
    after = (runs/'cfw-seed1'/'history.jsonl').read_text().splitlines()
    assert after[:2] == before and len(after) == 4                               # continued from its checkpoint (timings kept), not retrained
