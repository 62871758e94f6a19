"""The one Jinja2 environment of tinyqat: templates live in ``resource_dir("templates")``.

Templates hold loops and substitutions only; every literal is formatted in Python
(:mod:`tinyqat.codegen.clit`).  ``StrictUndefined`` turns a missing variable into an error.
"""

from __future__ import annotations

import functools

import jinja2

from tinyqat.resources import resource_dir


@functools.cache
def environment() -> jinja2.Environment:
    """The shared environment (created once)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(template: str, **context: object) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
