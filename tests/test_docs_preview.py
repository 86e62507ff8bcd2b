"The Quarto-free docs preview renders every notebook, with the API docs of the core functions."
import re

from conftest import BIN, run
from check_nbs import notebooks
from docs_preview import page_name

CORE_API = {  # name -> its docstring, as it must appear on the page
    'set_seed': 'Seed python, numpy and torch on all devices; return the seed.',
    'get_device': 'The device to compute on: the one asked for, else CUDA, then Apple MPS, then the CPU.',
    'atomic_write': 'through a temporary file that replaces it only once complete.',
    'write_json': 'NaN and infinity are refused',
    'fingerprint': 'SHA-256 hex digest of',
    'RunDir': 'A folder recording one run: its config, seed, package versions, git commit and data fingerprint.',
    'Config': 'Base of cfw_nb configurations: dataclasses checked on creation that round-trip through JSON.',
}


def test_preview_pages(scratch_tree, tmp_path):
    out = tmp_path/'site'
    r = run([BIN/'python', scratch_tree/'tools'/'docs_preview.py', '--root', scratch_tree, '--out', out])
    assert r.returncode == 0, r.stderr
    expected = sorted(page_name(nb) for nb in notebooks(scratch_tree))           # one page per notebook, as Quarto names them
    assert {'index.html', 'core.html', 'engine.html', 'ingestion.html', 'pipeline.html'} <= set(expected)
    assert sorted(p.name for p in out.iterdir()) == expected
    core = (out/'core.html').read_text()
    text = re.sub(r'<[^>]+>', '', core)
    for name, doc in CORE_API.items():
        assert re.search(rf'<h[2-4][^>]*>\s*{name}\s*(<a[^>]*>.*?</a>)?\s*</h[2-4]>', core), f"no API heading for {name}"
        assert doc in text, f"docstring of {name} missing"
    assert 'in [0, 2**32)' in text                                   # parameter comments are part of the API docs
    assert '#| hide' not in core and '_tf.TemporaryDirectory' not in core  # hidden cells and directives are not shown
    assert 'make_long_tail' in (out/'ingestion.html').read_text()
    index = (out/'index.html').read_text()
    assert 'Quick start' in index and 'href="core.html"' in index
