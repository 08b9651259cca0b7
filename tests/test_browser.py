"""The built book as a reader sees it: every page loaded in headless Chromium, offline.

The book (quick parameters, built once per session by book_build.py) is served on 127.0.0.1;
each page is loaded in a 1280 px wide window through the Chrome DevTools protocol, and:
equations are typeset (no raw TeX left), every image loaded, the compared-with-paper tables
are HTML tables, the console shows no error, nothing is requested from another host (MathJax
comes with the book), papermill's injected cell is not shown, and the figures' tick labels
are at least 9 px high. Each page is loaded again as on a phone (400 px wide): the figures'
smallest text is still at least 9 px high (the image keeps its width and scrolls in its own
box), each figure image links to its full-size file, code keeps its lines whole (scrolls
sideways inside its block, never breaks inside an identifier) and the page itself does not
scroll sideways. Full-page screenshots go to _build/screenshots/ (phone: *_phone.png; not
committed).

Skipped, with the reason, where no Chromium is installed (`apt-get install chromium`).
"""

import base64
import contextlib
import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from book_build import NOTEBOOKS, ROOT, stop

websocket = pytest.importorskip("websocket", reason="websocket-client (view extra) missing")

WIDTH, HEIGHT = 1280, 900  # the window a reader has
PHONE_WIDTH, PHONE_HEIGHT = 400, 800  # a phone held upright
SMALLEST_TEXT_PX = 9.0  # figure text (tick labels) on screen
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


class DevTools:
    """A minimal Chrome DevTools protocol client over one page's websocket."""

    def __init__(self, url: str):
        self.socket = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            if message.get("method") == method:
                return message
            self.events.append(message)
        raise TimeoutError(f"no {method} within {timeout} s")

    def evaluate(self, expression: str):
        result = self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        self.socket.close()


@contextlib.contextmanager
def chromium(path: str, profile: Path):
    """Start headless Chromium; yield a function that opens a new page (DevTools)."""
    process = subprocess.Popen(
        [path, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            if match := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line):
                port = int(match.group(1))
        if port is None:
            raise RuntimeError("Chromium did not start its DevTools endpoint within 60 s")
        threading.Thread(target=process.stderr.read, daemon=True).start()  # drain

        def new_page() -> DevTools:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT"
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                target = json.load(response)
            return DevTools(target["webSocketDebuggerUrl"])

        yield new_page
    finally:
        stop(process)


@contextlib.contextmanager
def serve(directory: Path):
    """Serve a directory on 127.0.0.1; yield its URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """(open a page) -> DevTools, on a headless Chromium with no network but 127.0.0.1."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; .ci/run does)")
    with chromium(path, tmp_path_factory.mktemp("chromium-profile")) as new_page:
        yield new_page


@pytest.fixture(scope="module")
def site(built_book):
    """http://127.0.0.1:PORT/ serving the built book's _build/html."""
    assert built_book.build.returncode == 0, built_book.build.stdout[-3000:]
    with serve(built_book.html) as url:
        yield url


def book_pages(html: Path) -> list[str]:
    """Every HTML page of the book, relative to its root (not Sphinx's search/index pages)."""
    pages = sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith("_")
    )
    return [p for p in pages if p not in ("index.html", "genindex.html", "search.html")]


# Everything the page shows, after MathJax and image loading, as one JSON object.
INSPECT = r"""
(async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; })));
  const main = document.querySelector("main") || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style, mjx-container, .toggle-hidden")
       .forEach(e => e.remove());
  const figures = [...document.querySelectorAll("figure[id]")].map(f => {
    const img = f.querySelector("img");
    const caption = f.querySelector("figcaption");
    const below = img && caption ?
      caption.getBoundingClientRect().top >= img.getBoundingClientRect().bottom - 1 : false;
    const box = f.getBoundingClientRect();
    const covered = [...document.querySelectorAll(".bd-sidebar-secondary, .bd-sidebar-primary")]
      .filter(e => e.offsetParent !== null).some(e => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.left < box.right && box.left < r.right;
      });
    const link = img ? img.closest("a[href]") : null;
    return {id: f.id, alt: img ? img.alt : "", shown: img ? img.clientWidth : 0,
            natural: img ? img.naturalWidth : 0, captionBelow: below, covered: covered,
            caption: caption ? caption.innerText : "",
            link: link ? link.href : "", src: img ? img.src : ""};
  });
  const code = [...main.querySelectorAll("pre")].filter(e => e.offsetParent !== null)
    .map(e => { const style = getComputedStyle(e);
                return {whiteSpace: style.whiteSpace, overflowX: style.overflowX,
                        wrap: style.overflowWrap, text: e.innerText.slice(0, 60)}; });
  const tables = [...main.querySelectorAll("table")].map(t => ({
    header: t.tHead ? t.tHead.innerText : "", text: t.innerText}));
  const visible = e => e.offsetParent !== null;
  // what sticks out of its box without being scrollable in it (a scrolling code block or
  // figure box is fine; text cut off or pushing the page wider is not)
  const overflowing = [...main.querySelectorAll("pre, .cell_output")].filter(visible)
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .filter(e => !["auto", "scroll"].includes(getComputedStyle(e).overflowX))
    .map(e => e.innerText.slice(0, 80));
  return {
    text: clone.innerText,
    images: [...document.images].map(i => ({src: i.src, width: i.naturalWidth})),
    figures: figures, tables: tables, overflowing: overflowing, code: code,
    pageWidth: Math.ceil(document.documentElement.scrollWidth), window: window.innerWidth,
    injected: document.querySelectorAll(".tag_injected-parameters").length,
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    math: document.querySelectorAll("mjx-container").length,
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})()
"""

RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\(?:mathrm|frac|sum|tau|infty|pi|min)\b")


def inspect_page(
    new_page,
    url: str,
    screenshot: Path,
    width: int = WIDTH,
    height: int = HEIGHT,
    mobile: bool = False,
) -> tuple[dict, list[str], list[str]]:
    """Load url in a window `width` x `height` px (mobile: as a phone does, with its
    viewport); return what it shows, its console errors and requests to other hosts."""
    page = new_page()
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        page.send("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        shown = page.evaluate(INSPECT)
        page.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=min(shown["height"], 16000),
            deviceScaleFactor=1,
            mobile=mobile,
        )
        time.sleep(0.3)
        image = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(image["data"]))
        page.evaluate("1")  # collect the events sent meanwhile
        errors, foreign = [], []
        for event in page.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                errors.append(json.dumps(params.get("args"))[:500])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(f"{params['entry'].get('url', '')}: {params['entry']['text']}")
            elif method == "Network.requestWillBeSent":
                request_url = params["request"]["url"]
                if not request_url.startswith(("/".join(url.split("/")[:3]), "data:", "about:")):
                    foreign.append(request_url)
        return shown, errors, foreign
    finally:
        page.close()


@pytest.fixture(scope="module")
def pages(built_book, site, browser):
    """{page path: (what it shows, console errors, requests to other hosts)} for every page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shown = {}
    for page in book_pages(built_book.html):
        name = page.removesuffix(".html").replace("/", "_")
        shown[page] = inspect_page(browser, site + page, SCREENSHOTS / f"{name}.png")
    return shown


@pytest.fixture(scope="module")
def phone_pages(built_book, site, browser):
    """The same pages as `pages`, loaded in a 400 px wide phone window."""
    shown = {}
    for page in book_pages(built_book.html):
        name = page.removesuffix(".html").replace("/", "_")
        shown[page] = inspect_page(
            browser,
            site + page,
            SCREENSHOTS / f"{name}_phone.png",
            PHONE_WIDTH,
            PHONE_HEIGHT,
            mobile=True,
        )
    return shown


def test_every_page_is_checked(pages, built_book):
    expected = {f"book/notebooks/{name}.html" for name in NOTEBOOKS}
    expected |= {
        "book/intro.html",
        "book/theory.html",
        "book/reproducing.html",
        "book/architecture.html",
    }
    assert expected <= set(pages), f"pages not loaded: {expected - set(pages)}"


def test_every_page_links_the_repository(pages):
    config = (ROOT / "_config.yml").read_text()
    repository = re.search(r"^repository:\n\s+url:\s*(\S+)", config, flags=re.M).group(1)
    for page, (shown, _, _) in pages.items():
        assert any(link.startswith(repository) for link in shown["links"]), (
            f"{page}: no link to the source repository {repository}"
        )


def test_equations_are_typeset_offline(pages):
    for page, (shown, _, foreign) in pages.items():
        leftover = RAW_TEX.findall(shown["text"])
        assert not leftover, f"{page}: raw TeX on the page: {leftover[:5]}"
        assert not foreign, f"{page}: requests to other hosts: {foreign[:3]}"
    assert pages["book/theory.html"][0]["math"] > 10, "the theory page typeset no equations"


def test_no_console_errors(pages):
    for page, (_, errors, _) in pages.items():
        assert not errors, f"{page}: console errors: {errors}"


def test_images_load(pages):
    for page, (shown, _, _) in pages.items():
        broken = [image["src"] for image in shown["images"] if image["width"] == 0]
        assert not broken, f"{page}: images not loaded: {broken}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_figure_pages(pages, built_book, name):
    """Each notebook page: its figure(s) with alt text and the caption under the figure,
    tick labels at least 9 px high, the paper-vs-run table an HTML table, no papermill
    machinery shown."""
    shown, _, _ = pages[f"book/notebooks/{name}.html"]
    assert shown["figures"], f"{name}: no captioned figure"
    fonts = built_book.results[name]["figure_fonts"]
    for figure in shown["figures"]:
        assert len(figure["alt"]) > 40, f"{name}: figure {figure['id']} lacks alt text"
        assert figure["captionBelow"] and figure["caption"].startswith("Fig. ")
        assert not figure["covered"], f"{name}: a sidebar lies over figure {figure['id']}"
        assert figure["shown"] <= WIDTH, f"{name}: figure {figure['id']} wider than the window"
        pixels = smallest_text_px(figure, fonts[figure["id"]])
        assert pixels >= SMALLEST_TEXT_PX, (
            f"{name}: figure {figure['id']} shows its smallest text {pixels:.1f} px high"
        )
    assert any("paper" in table["header"] for table in shown["tables"]), (
        f"{name}: no compared-with-paper table"
    )
    assert "| paper |" not in shown["text"], f"{name}: a Markdown table left unrendered"
    assert shown["injected"] == 0 and "Parameters" not in shown["text"].replace("parameters", ""), (
        f"{name}: papermill's injected parameters are shown"
    )
    assert "{\n" not in shown["text"], f"{name}: a JSON dump is shown"


def test_nothing_overflows_the_column(pages):
    """Code and printed output stay in the text column: what is wider scrolls inside its
    own block, nothing is cut off."""
    for page, (shown, _, _) in pages.items():
        assert not shown["overflowing"], f"{page}: lines wider than the column: " + repr(
            shown["overflowing"]
        )


def test_screenshots_are_saved(pages):
    for page in pages:
        path = SCREENSHOTS / (page.removesuffix(".html").replace("/", "_") + ".png")
        assert path.stat().st_size > 10_000, f"{path}: no screenshot"


def smallest_text_px(figure: dict, font: dict) -> float:
    """Height (px) of a figure's smallest text as shown: its size in the image (points at
    the image's dpi) scaled by the shown over the natural width."""
    return font["smallest_pt"] * font["dpi"] / 72 * figure["shown"] / figure["natural"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_figures_on_a_phone(phone_pages, built_book, name):
    """At 400 px the figures' text stays >= 9 px high (the image scrolls sideways in its
    box) and a tap on a figure opens its full-size image file."""
    shown, errors, _ = phone_pages[f"book/notebooks/{name}.html"]
    assert not errors, f"{name} (phone): console errors: {errors}"
    fonts = built_book.results[name]["figure_fonts"]
    assert shown["figures"], f"{name}: no captioned figure"
    for figure in shown["figures"]:
        pixels = smallest_text_px(figure, fonts[figure["id"]])
        assert pixels >= SMALLEST_TEXT_PX, (
            f"{name}: at {PHONE_WIDTH} px figure {figure['id']} shows its smallest text "
            f"{pixels:.1f} px high"
        )
        assert figure["link"] and figure["link"].split("/")[-1] == figure["src"].split("/")[-1], (
            f"{name}: figure {figure['id']} does not link to its full-size image "
            f"(link {figure['link']!r}, image {figure['src']!r})"
        )


def test_pages_on_a_phone_do_not_scroll_sideways(phone_pages):
    for page, (shown, _, _) in phone_pages.items():
        # a phone widens its layout viewport to fit a page that is too wide
        assert shown["pageWidth"] <= PHONE_WIDTH and shown["window"] <= PHONE_WIDTH, (
            f"{page}: at {PHONE_WIDTH} px the page is {shown['pageWidth']} px wide"
        )
        assert not shown["overflowing"], f"{page} (phone): text cut off: " + repr(
            shown["overflowing"]
        )


def test_code_keeps_its_lines_whole(pages, phone_pages):
    """Code and output never break inside a line (so not inside an identifier, the old
    "seed=s / eed"): white-space pre, sideways scrolling inside the block."""
    for which in (pages, phone_pages):
        for page, (shown, _, _) in which.items():
            for block in shown["code"]:
                assert block["whiteSpace"] == "pre" and block["overflowX"] in ("auto", "scroll"), (
                    f"{page}: a code block wraps its lines ({block})"
                )
