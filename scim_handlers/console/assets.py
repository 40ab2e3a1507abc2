"""/admin/static/<file>: the console's CSS and JS, shipped beside this module (no build step, no CDN)."""

from __future__ import annotations

import re
from pathlib import Path

from scim_handlers.console.web import Reply, Request, register
from shared.errors import NotFound

STATIC = Path(__file__).parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_NAME = re.compile(r"^[a-z0-9-]+\.(css|js)$")


def _file(request: Request) -> Reply:
    name = request.req.route_params.get("file") or ""
    path = STATIC / name
    if not _NAME.match(name) or not path.is_file():
        raise NotFound("No such file.")
    return Reply(200, path.read_bytes(), {"Content-Type": _TYPES[path.suffix], "Cache-Control": "no-cache"})


register("console_static", "static/{file}", ["GET"], "public", _file)
