"""Jinja2 templates beside this module, autoescaped (every value a page shows is data from Entra or an
admin), loaded once per process on first use."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from shared.console.principal import Principal
from shared.console.sessions import Session

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # all templates: .html only
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails the test that renders it
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(template: str, session: Session | None, **context: Any) -> bytes:
    principal: Principal | None = session.principal if session else None
    page = (
        _environment()
        .get_template(template)
        .render(principal=principal, csrf=session.csrf_token if session else "", **context)
    )
    return page.encode("utf-8")
