"""What a verified token's claims say: the `Viewer` they describe, or why they can't."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from db.codes import is_division_code_format
from resolvers.access import Role, Viewer
from resolvers.errors import BadArgument
from resolvers.global_ids import MAX_INT_KEY, decode_int_id, int_key
from server.auth.errors import AuthenticationError

TOKEN_ROLES = (Role.WORKER, Role.EMPLOYER, Role.STAFF, Role.ADMIN)


def viewer_from_claims(claims: Mapping[str, Any], client_address: str | None = None) -> Viewer:
    """The viewer a verified token's claims describe; only the role's own claims are used."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("claim 'sub' is required")
    role = token_role(claims.get("role"))
    return Viewer(
        role,
        subject=subject,
        region_code=_region_claim(claims) if role is Role.STAFF else None,
        worker_id=_id_claim(claims, "workerId", "Worker", role) if role is Role.WORKER else None,
        employer_id=(
            _id_claim(claims, "employerId", "Employer", role) if role is Role.EMPLOYER else None
        ),
        client_address=client_address,
    )


def token_role(value: object) -> Role:
    if value is None:
        raise AuthenticationError("claim 'role' is required")
    for role in TOKEN_ROLES:
        if value == role.value:
            return role
    names = ", ".join(role.value for role in TOKEN_ROLES)
    raise AuthenticationError(f"claim 'role' must be one of {names}, not '{str(value)[:32]}'")


def _region_claim(claims: Mapping[str, Any]) -> str:
    region = claims.get("region")
    if region is None:
        raise AuthenticationError("claim 'region' is required for role staff")
    if not isinstance(region, str) or not is_division_code_format(region):
        raise AuthenticationError("claim 'region' must be a 6-digit division code")
    return region


def _id_claim(claims: Mapping[str, Any], claim: str, type_name: str, role: Role) -> int:
    """A `workerId`/`employerId`: the API's global ID, or the plain integer id."""
    value = claims.get(claim)
    if value is None:
        raise AuthenticationError(f"claim '{claim}' is required for role {role.value}")
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_INT_KEY:
        return value
    if isinstance(value, str):
        number = int_key(value)
        if number is not None and number > 0:
            return number
        try:
            return decode_int_id(value, type_name, claim)
        except BadArgument:
            pass
    raise AuthenticationError(
        f"claim '{claim}' must be a global ID of type {type_name} or an integer id"
    )
