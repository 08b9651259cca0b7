"""Test configuration: float64 available (float32 tests ask for it explicitly), and how
`make test` shares the modules among its processes (pytest-xdist, `-n 2 --dist
loadscope --no-loadscope-reorder`): each module runs whole in one process, so that its
module fixtures are computed once, and the book tests (test_book.py, test_browser.py)
run together in one, so that the book is executed and built once (the session fixtures
of book_build.py). They start first, being the longest; then the other modules, the
largest first."""

import importlib.util
from collections import Counter

import jax
import pytest

pytest_plugins = ["book_build"]  # the executed and built book, shared by the book tests

jax.config.update("jax_enable_x64", True)

BOOK_MODULES = ("test_book.py", "test_browser.py")


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The book tests first, then the modules by their number of tests, largest first
    (stable: each module's tests keep their order)."""
    sizes = Counter(module_of(item.nodeid) for item in items)
    items.sort(
        key=lambda item: (
            module_of(item.nodeid) not in BOOK_MODULES,
            -sizes[module_of(item.nodeid)],
            module_of(item.nodeid),
        )
    )


if importlib.util.find_spec("xdist"):  # the hook exists only with pytest-xdist

    def pytest_xdist_make_scheduler(config, log):
        """--dist loadscope, with the book tests as one scope (the other modes as usual)."""
        if config.getvalue("dist") != "loadscope":
            return None
        from xdist.scheduler import LoadScopeScheduling

        class BookTogether(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                if module_of(nodeid) in BOOK_MODULES:
                    return "book"
                return super()._split_scope(nodeid)

        return BookTogether(config, log)
