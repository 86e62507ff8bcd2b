"""Nothing lost, nothing stale: killed or out of disk space at any chosen point, cfw_nb's writers leave each output
complete and verifiable, or absent, and the same call run again ends with exactly what an uninterrupted run writes.

Each test runs a real writer in a child process (fault_job.py) with a fault injected at a deterministic point: SIGKILL
part-way through a file, SIGKILL just before the rename that puts a file or folder in place, or OSError(ENOSPC) part-way
through a file. Then: (a) the same call rerun in a fresh process succeeds; (b) its output equals that of an uninterrupted
run in another folder: the same files with the same bytes (manifests but for `created`, training runs but for timings);
(c) nothing partial remains: no `.cfwtmp-` name anywhere, every manifest verifies. A full disk also reaches the user as
an error naming it, and leaves what was there before as it was.
"""
import hashlib, itertools, json, os, select, shutil, signal, subprocess

import pandas as pd
import pytest

from conftest import BIN, ROOT, run
from cfw_nb.core import MANIFEST, RunDir, check_output, fingerprint, load_torch

ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}
TMP = '.cfwtmp-'
SERVER, LOGS, COUNT = None, None, itertools.count()


@pytest.fixture(scope='module', autouse=True)
def server(tmp_path_factory):
    "`fault_job.py --serve`: imports cfw_nb once; each job runs in a fresh child process forked from it."
    global SERVER, LOGS
    LOGS = tmp_path_factory.mktemp('logs')
    SERVER = subprocess.Popen([BIN/'python', ROOT/'tests'/'fault_job.py', '--serve'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=ENV, cwd=ROOT)
    yield
    SERVER.stdin.close(); SERVER.wait(timeout=60)

def job(*args, fault=None):
    "Run one job of fault_job.py (with a fault, or none) in a fresh process; its exit status (-9: SIGKILL), stdout and stderr."
    out, err = (LOGS/f"{next(COUNT)}.{x}" for x in ('out', 'err'))
    SERVER.stdin.write(json.dumps([str(out), str(err), *(['--fault', fault] if fault else []), *map(str, args)]) + '\n'); SERVER.stdin.flush()
    assert select.select([SERVER.stdout], [], [], 300)[0], f"job {args} still running after 300 s"
    return subprocess.CompletedProcess(args, int(SERVER.stdout.readline()), out.read_text(), err.read_text())

def ok(*args):
    r = job(*args)
    assert r.returncode == 0, r.stderr[-3000:]

def killed(*args, fault):
    r = job(*args, fault=fault)
    assert r.returncode == -signal.SIGKILL and f"fault: {fault}" in r.stderr, (r.returncode, r.stderr[-3000:])   # died where planned

def told(r):
    "The user is told the disk is full, by the error (the last line of stderr)."
    return 'no space left' in (r.stderr.strip().splitlines() or [''])[-1].lower()

def no_space(*args, fault):
    r = job(*args, fault=fault)
    assert r.returncode == 1 and f"fault: {fault}" in r.stderr and told(r), (r.returncode, r.stderr[-3000:])

untimed = lambda d: {k: v for k, v in d.items() if k not in ('seconds', 'train_seconds')}
TIMED = {   # files of an experiment holding timings (or the checkout's git state, which an edit elsewhere changes): compared without them
    'experiment.json': lambda p: {k: v for k, v in json.loads(p.read_text()).items() if k != 'git'},
    'history.jsonl': lambda p: [untimed(json.loads(line)) for line in p.read_text().splitlines()],
    'result.json': lambda p: {**(r := json.loads(p.read_text())), 'row': untimed(r['row'])},
    'results.csv': lambda p: pd.read_csv(p).drop(columns='train_seconds').to_json(),
    'last.pt': lambda p: (lambda c: fingerprint(c['epoch'], c['step'], list(c['model'].items()), [untimed(h) for h in c['history']]))(load_torch(p))}

def digest(root):
    "Every file below `root` (hidden ones too): its SHA-256; a manifest without `created`; a timed file without its timings."
    out = {}
    for p in sorted(root.rglob('*')):
        if p.is_dir(): continue
        if p.name == MANIFEST:
            m = json.loads(p.read_text()); del m['created']
            m['files'] = {k: 'timed' if k.rsplit('/', 1)[-1] in TIMED else v for k, v in m['files'].items()}
            out[p.relative_to(root).as_posix()] = m
        else: out[p.relative_to(root).as_posix()] = TIMED[p.name](p) if p.name in TIMED else hashlib.sha256(p.read_bytes()).hexdigest()
    return out

def partial(root): return sorted(p for p in root.rglob('*') if TMP in p.name)

def assert_complete(root, ref):
    "(b) and (c): the files and bytes of the uninterrupted run, every manifest verified, no temporary sibling anywhere."
    assert not partial(root), partial(root)
    assert digest(root) == digest(ref)
    for m in root.rglob(MANIFEST): check_output(m.parent, allow_extra=False)


SRC = {'weights': 'bundle', 'frames': 'driveact', 'frames50': 'driveact'}

def cmd(what, root, src=None):
    "The job's arguments that write `what` below `root`."
    return {'features': ('features', root/'bundle'), 'weights': ('weights', src, root/'weights'), 'train': ('train', root),
            'frames': ('frames', src, root/'frames', 95), 'frames50': ('frames', src, root/'frames', 50)}[what]


@pytest.fixture(scope='module')
def made(tmp_path_factory):
    "`made(what)`: an input ('bundle', 'driveact') or the root of an uninterrupted output, each made once, when first asked for."
    cache = {}
    def get(what):
        if what not in cache:
            root = tmp_path_factory.mktemp(what)
            if what == 'bundle': ok('bundle', root/'in'); cache[what] = root/'in'
            elif what == 'driveact':
                from cfw_nb.formats import write_driveact
                cache[what] = write_driveact(root/'da', views=('kinect_color',), chunks_per_run=2)   # 3 videos, 2 frames each
            else: ok(*cmd(what, root, get(SRC[what]) if what in SRC else None)); cache[what] = root
        return cache[what]
    return get

def args(what, root, made): return cmd(what, root, made(SRC[what]) if what in SRC else None)


# --- killed (SIGKILL) part-way through a file, or with a finished output not yet renamed into place

@pytest.mark.parametrize('fault', ['kill-batch:5',           # features.npy half written (batch 5 of 9)
                                   'kill-rename:bundle'])    # the bundle complete, manifest included, not yet in place
def test_feature_extraction_killed(tmp_path, made, fault):
    killed(*args('features', tmp_path, made), fault=fault)
    assert not (tmp_path/'bundle').exists() and partial(tmp_path)      # absent; its temporary folder left by the dead process
    ok(*args('features', tmp_path, made))
    assert_complete(tmp_path, made('features'))


@pytest.mark.parametrize('fault', ['kill-write:weights.csv:1:HALF', 'kill-rename:weights'])
def test_cfw_weights_killed(tmp_path, made, fault):
    half = (made('weights')/'weights'/'weights.csv').stat().st_size // 2
    killed(*args('weights', tmp_path, made), fault=fault.replace('HALF', str(half)))
    assert not (tmp_path/'weights').exists() and partial(tmp_path)
    ok(*args('weights', tmp_path, made))
    assert_complete(tmp_path, made('weights'))


def _epoch(ref, improved):
    "The first epoch after the first of run uniform-seed1 that did (or did not) improve the validation score."
    flags = [h['best'] for h in map(json.loads, (ref/'exp'/'runs'/'uniform-seed1'/'history.jsonl').read_text().splitlines())]
    return next(e for e, b in enumerate(flags, 1) if e > 1 and b == improved)

@pytest.mark.parametrize('fault', [
    'kill-write:last.pt:NOT_IMPROVED:HALF',     # checkpoint half written, in an epoch that did not improve (best.pt untouched)
    'kill-write:last.pt:IMPROVED:HALF',         # the same in an epoch that improved: best.pt in place, one epoch ahead of last.pt
    'kill-rename:result.json:2',                 # run uniform-seed1 trained and evaluated, its result not yet in place
    'kill-rename:cfw_nb.manifest.json:2',        # its result in place, its manifest not
    'kill-rename:history.jsonl:8'])              # the last epoch's history not yet in place (nor its checkpoint)
def test_training_killed(tmp_path, made, fault):
    ref = made('train'); runs = tmp_path/'exp'/'runs'
    fault = (fault.replace('NOT_IMPROVED', str(4 + _epoch(ref, False))).replace('IMPROVED', str(4 + _epoch(ref, True)))   # 4 epochs per run
                  .replace('HALF', str((ref/'exp'/'runs'/'uniform-seed1'/'last.pt').stat().st_size // 2)))
    killed('train', tmp_path, fault=fault)
    check_output(runs/'uniform-seed0', 'training-run')                 # the run before the kill is finished
    assert partial(tmp_path) and not (tmp_path/'table.json').exists()
    ok('train', tmp_path)
    assert_complete(tmp_path, ref)                                    # results table bit for bit, runs but for timings


# --- frame extraction: one folder per video; killed during the second video

@pytest.mark.parametrize('fault', ['kill-write:*.jpg:3:100',          # the 2nd video's first frame, 100 bytes written
                                   'kill-rename:run*:2'])             # the 2nd video's folder complete, not in place
def test_frame_extraction_killed_during_the_second_video(tmp_path, made, fault):
    killed(*args('frames', tmp_path, made), fault=fault)
    done = [m.parent for m in (tmp_path/'frames').rglob(MANIFEST) if TMP not in str(m)]
    assert len(done) == 1 and check_output(done[0], 'driveact-frames') and partial(tmp_path)   # the first video's folder only
    ok(*args('frames', tmp_path, made))
    assert_complete(tmp_path, made('frames'))


def test_frames_redone_with_another_quality_killed_between_the_two_renames(tmp_path, made):
    shutil.copytree(made('frames'), tmp_path, dirs_exist_ok=True)       # finished at quality 95
    killed(*args('frames50', tmp_path, made), fault='kill-rename:run*:4')   # 2nd video: old folder moved aside, new not in place
    ok(*args('frames50', tmp_path, made))
    assert_complete(tmp_path, made('frames50'))


# --- full disk: the error reaches the user, what was there stays as it was, nothing partial remains

def test_full_disk_rewriting_run_json_keeps_the_old_file(tmp_path):
    run_dir = RunDir.create(tmp_path, 'r', seed=0).path
    before = digest(tmp_path)
    no_space('update-run', run_dir, fault='full:run.json:1:200')
    assert digest(tmp_path) == before                                  # the old run.json byte for byte, no temporary file
    ok('update-run', run_dir)
    assert RunDir(run_dir).meta['results']['acc'] == 0.75 and not partial(tmp_path)


def test_full_disk_rewriting_a_checkpoint_keeps_the_previous_one(tmp_path, made):
    ref = made('train'); e = _epoch(ref, False)
    no_space('train', tmp_path, fault=f"full:last.pt:{4 + e}:{(ref/'exp'/'runs'/'uniform-seed1'/'last.pt').stat().st_size // 2}")   # torch.save's own RuntimeError, named as the full disk it is
    assert load_torch(tmp_path/'exp'/'runs'/'uniform-seed1'/'last.pt')['epoch'] == e - 1 and not partial(tmp_path)
    ok('train', tmp_path)
    assert_complete(tmp_path, ref)


@pytest.mark.parametrize('what, fault', [('features', 'full:labels.npy:1:500'),
                                         ('weights', 'full:cfw_nb.manifest.json:1:100')])   # in write_manifest
def test_full_disk_writing_a_new_folder_leaves_nothing(tmp_path, made, what, fault):
    no_space(*args(what, tmp_path, made), fault=fault)
    assert list(tmp_path.iterdir()) == []                              # nothing at the target, no temporary sibling
    ok(*args(what, tmp_path, made))
    assert_complete(tmp_path, made(what))


def test_full_disk_replacing_a_folder_keeps_the_old_one(tmp_path):
    ok('folder', tmp_path/'out', 'one')
    before = digest(tmp_path)
    no_space('folder', tmp_path/'out', 'two', fault='full:c.txt:1:50')
    assert digest(tmp_path) == before and check_output(tmp_path/'out', 'demo', {'text': 'one'}, allow_extra=False)
    ok('folder', tmp_path/'out', 'two')
    assert check_output(tmp_path/'out', 'demo', {'text': 'two'}, allow_extra=False) and not partial(tmp_path)


def test_full_disk_redoing_frames_with_another_quality_keeps_the_old_ones(tmp_path, made):
    shutil.copytree(made('frames'), tmp_path, dirs_exist_ok=True)
    no_space(*args('frames50', tmp_path, made), fault='full:*.jpg:2:100')   # the first video's second frame
    assert_complete(tmp_path, made('frames'))                          # every video folder as it was, verified
    ok(*args('frames50', tmp_path, made))
    assert_complete(tmp_path, made('frames50'))


# --- a real full disk: a 2 MB tmpfs (needs root)

@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path/'disk'; disk.mkdir()
    r = run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk])
    if r.returncode: pytest.skip(f"cannot mount a tmpfs here (root only): {r.stderr.strip()}")
    yield disk
    run(['umount', disk])

def test_real_full_disk(small_disk):
    ok('features', small_disk/'bundle')                                # 115 kB: fits
    before = digest(small_disk)
    big_bundle = job('bundle', small_disk/'big', 1024)                 # 2.4 MB through np.save: does not fit
    assert big_bundle.returncode == 1 and digest(small_disk) == before, big_bundle.stderr[-3000:]   # nothing of it left, the bundle as it was
    big_features = job('features', small_disk/'big', 512)              # 3.7 MB of features through a memory map
    assert big_features.returncode != 0 and not (small_disk/'big').exists() and check_output(small_disk/'bundle', 'features')
    assert told(big_bundle) and told(big_features) and digest(small_disk) == before   # the user is told the disk is full
