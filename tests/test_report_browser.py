"""The analysis report as a reader's browser shows it: headless system Chromium (via playwright) opens report.html offline.

Needs Debian's chromium (./dev.sh setup as root installs it) or $CFW_NB_CHROMIUM; without it these tests fail, saying how to install it.
The report's full-page screenshot is kept in _artifacts/report.png.
"""
import base64, struct, zlib

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from conftest import ROOT
from report_browser import open_in_chromium

SAMPLERS = ['uniform', 'cfw', 'class_balanced']
ARTIFACTS = ROOT/'_artifacts'


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_experiment(out):
    "A sampler comparison on scikit-learn's digits (64 inputs, small MLP, 3 epochs, 2 seeds), CFW weights from the training inputs; (folder, CFW result, inputs)."
    from cfw_nb.cfw import CFWConfig, compute_cfw
    from cfw_nb.engine import TrainConfig
    from cfw_nb.ingestion import load_digits_set
    from cfw_nb.training import ExperimentConfig, run_experiment
    digits = load_digits_set()
    x, y = digits.split('train').to_tensors(); xt, yt = digits.split('test').to_tensors()
    x, xt = x.flatten(1).float(), xt.flatten(1).float()
    half = len(yt) // 2
    train, val, test = TensorDataset(x, y), TensorDataset(xt[:half], yt[:half]), TensorDataset(xt[half:], yt[half:])
    cfw = compute_cfw(x.numpy(), CFWConfig())
    weights = {'cfw': cfw.weights}
    model = lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    cfg = ExperimentConfig(samplers=SAMPLERS, seeds=[0, 1], batch_size=64,
                           train=TrainConfig(epochs=3, optimizer='sgd', lr=0.05, progress=False))
    run_experiment(model, train, y.numpy(), digits.classes, out, cfg, val=val, test=test, weights=weights, device='cpu', verbose=False)
    return out, cfw, x.numpy()


def test_report_opens_offline_in_chromium(tmp_path, one_thread):
    from cfw_nb.analysis import write_report   # here, so the helper test below runs before cfw_nb.analysis exists
    exp, cfw, features = tiny_experiment(tmp_path/'exp')
    html = write_report(exp, tmp_path/'report', cfw=cfw, features=features)   # every section, embedding maps included
    assert html == tmp_path/'report'/'report.html' and html.is_file()
    shot = ARTIFACTS/'report.png'
    seen = open_in_chromium(html, shot)
    print(f"\nreport screenshot: {shot}")
    assert seen['console_errors'] == [], seen['console_errors']
    assert seen['page_errors'] == [], seen['page_errors']
    assert seen['requests'] == [], f"the report is not self-contained; it fetched {seen['requests']}"
    assert seen['images'] >= 8, seen
    for h in ('Provenance', 'Comparison', 'Training curves and class collapse', 'Confusion matrices', 'Recall against class size',
              'Batch balance', 'CFW clusters', 'Embedding maps'):
        assert h in seen['headings'], (h, seen['headings'])
    assert seen['broken_images'] == 0, seen
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and shot.stat().st_size > 10_000
    md = (html.parent/'report.md').read_text()
    missing = [s for s in SAMPLERS if s not in md and s.replace('_', r'\_') not in md]
    assert not missing, f"report.md does not mention {missing}"


def png(w=4, h=4, rgb=(200, 30, 30)) -> bytes:
    "A tiny solid-colour PNG."
    chunk = lambda kind, data: struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    rows = b''.join(b'\x00' + bytes(rgb) * w for _ in range(h))
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')


def test_browser_helper_sees_errors_and_requests(tmp_path):
    "The checks above can fail: a console error, a thrown error, an outside request and a broken image are all reported."
    inline = base64.b64encode(png()).decode()
    page = tmp_path/'bad.html'
    page.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>bad page</title></head><body>
<h2>First</h2><img alt="inline" src="data:image/png;base64,{inline}">
<h2>Second</h2><img alt="outside" src="http://127.0.0.1:9/x.png">
<script>console.error('deliberate console error'); throw new Error('deliberate page error');</script>
</body></html>""")
    shot = tmp_path/'bad.png'
    seen = open_in_chromium(page, shot)
    assert any('deliberate console error' in m for m in seen['console_errors']), seen
    assert any('deliberate page error' in m for m in seen['page_errors']), seen
    assert any(u.startswith('http://127.0.0.1:9/') for u in seen['requests']), seen
    assert (seen['images'], seen['broken_images']) == (2, 1), seen
    assert seen['title'] == 'bad page' and seen['headings'] == ['First', 'Second'], seen
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_missing_chromium_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv('CFW_NB_CHROMIUM', str(tmp_path/'no-chromium'))
    with pytest.raises(RuntimeError, match='apt-get install chromium'):
        open_in_chromium(tmp_path/'x.html', tmp_path/'x.png')
