"""Open an HTML file in headless Chromium (the system's, via playwright) and report what a reader's browser would see.

Used by test_report_browser.py. The browser is /usr/bin/chromium (Debian's `chromium` package), or the binary named by
$CFW_NB_CHROMIUM; playwright's own browser download is never used.
"""
import os
from pathlib import Path

INSTALL_HINT = ("install Debian's chromium ('sudo apt-get install chromium', or run './dev.sh setup' as root), "
                "or set CFW_NB_CHROMIUM to a Chromium binary")

# Every <img>'s natural width once it has finished (lazy images made eager; at most 10 s): 0 means broken.
_IMAGE_WIDTHS = """async () => {
  const imgs = Array.from(document.images);
  const settle = i => { i.loading = 'eager'; return i.complete ? null : i.decode().catch(() => null); };
  const timeout = new Promise(r => setTimeout(r, 10000));
  await Promise.race([Promise.all(imgs.map(settle)), timeout]);
  return imgs.map(i => i.naturalWidth);
}"""


def chromium_path() -> Path:
    "The Chromium binary to launch: $CFW_NB_CHROMIUM or /usr/bin/chromium; a RuntimeError saying how to install it if missing."
    exe = Path(os.environ.get('CFW_NB_CHROMIUM') or '/usr/bin/chromium')
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        raise RuntimeError(f"no Chromium at {exe}: {INSTALL_HINT}")
    return exe


def open_in_chromium(html_path, screenshot_path, timeout_ms: int = 60_000) -> dict:
    "Load `html_path` (file://) in headless Chromium; its console errors and warnings, page errors, outside requests, images, title and h2s."
    exe = chromium_path()
    try: from playwright.sync_api import sync_playwright
    except ImportError as e: raise RuntimeError("playwright is not installed: pip install 'playwright>=1.40' (a dev requirement)") from e
    html_path, screenshot_path = Path(html_path).resolve(), Path(screenshot_path)
    url = html_path.as_uri()
    screenshot_path.parent.mkdir(parents=True, exist_ok=True)
    console, page_errors, requests = [], [], []

    def on_console(msg):
        if msg.type in ('error', 'warning'): console.append(f"{msg.type}: {msg.text}")

    def on_request(req):
        if req.url != url and not req.url.startswith('data:'): requests.append(req.url)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(exe), args=['--no-sandbox', '--disable-dev-shm-usage'], timeout=timeout_ms)
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            page.on('console', on_console)
            page.on('pageerror', lambda err: page_errors.append(str(err)))
            page.on('request', on_request)
            page.goto(url, wait_until='load')
            widths = page.evaluate(_IMAGE_WIDTHS)
            page.screenshot(path=str(screenshot_path), full_page=True)
            title = page.title()
            headings = page.eval_on_selector_all('h2', 'els => els.map(e => e.textContent.trim())')
        finally:
            browser.close()
    return {'console_errors': console, 'page_errors': page_errors, 'requests': requests,
            'images': len(widths), 'broken_images': sum(w == 0 for w in widths), 'title': title, 'headings': headings}
