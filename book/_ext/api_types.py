"""Sphinx extension of the API reference: legible array type hints.

jaxtyping annotations stringify with jax's private module path (``Float[jaxlib._jax.Array,
'D N']``); this writes them as the user imports them (``Float[Array, 'D N']``) before
autodoc merges the type hints into the parameter descriptions.
"""

import re

_PRIVATE_ARRAY = re.compile(r"\bjaxlib\.[\w.]*\.(Array|ArrayImpl)\b|\bjax\._src\.[\w.]*\.(Array)\b")


def _tidy(app, domain, objtype, contentnode) -> None:
    for annotations in app.env.temp_data.get("annotations", {}).values():
        for name, text in annotations.items():
            annotations[name] = _PRIVATE_ARRAY.sub("Array", text)


def setup(app) -> dict:
    # before sphinx.ext.autodoc.typehints.merge_typehints (priority 500)
    app.connect("object-description-transform", _tidy, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
