"""The viewer's own worker or employer id as a named SQL parameter.

Row policies compare rows with the id of the worker or employer who asks. Written as
`viewer_id(viewer, "worker_id")`, that id is a parameter the compiled read path can tell
from every other one (its name starts with VIEWER_ID), so one compiled plan serves every
worker, or every employer, by setting it per request (`server.compiled_reads`). A plan in
which a viewer's id shows up as any other parameter is never shared.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, BindParameter, bindparam

from resolvers.access import Viewer

VIEWER_ID = "viewer_id__"
VIEWER_ID_FIELDS = ("worker_id", "employer_id")


def viewer_id(viewer: Viewer, field: str) -> BindParameter[Any]:
    """`viewer.<field>` (one of VIEWER_ID_FIELDS) as a parameter named after the field."""
    if field not in VIEWER_ID_FIELDS:
        raise ValueError(f"not a viewer id field: {field}")
    return bindparam(VIEWER_ID + field, getattr(viewer, field), type_=BigInteger, unique=True)


def viewer_id_field(parameter_name: str) -> str | None:
    """The viewer field a compiled parameter holds (`viewer_id__worker_id_3`), or None."""
    if not parameter_name.startswith(VIEWER_ID):
        return None
    rest = parameter_name[len(VIEWER_ID):]
    return next((f for f in VIEWER_ID_FIELDS if rest == f or rest.startswith(f + "_")), None)
