"""The installation's secrets: the JWT signing key and the seeded admin's password.

None ships with the shop. For the local default, a SQLite file, a secret that is not configured
is generated once, stored beside the database file (mode 0600) and reused on every start.
Anywhere else (a configured server database: a deployment) the shop refuses to start without
it. Known values (those older versions shipped) and weak ones are refused everywhere. Every
refusal is one line saying what to set.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine.url import make_url

from .settings import Settings

KNOWN_JWT_SECRETS = frozenset(
    {"dev-only-secret-change-me-in-production-please", "secret", "changeme", "change-me"}
)
"""Secrets that were shipped (or are guessed first): refused whatever their length."""
KNOWN_ADMIN_PASSWORDS = frozenset({"admin-password", "admin", "password", "changeme"})
MIN_JWT_SECRET_BYTES = 32
MIN_ADMIN_PASSWORD_LENGTH = 12
JWT_SECRET_FILE = "jwt-secret"
ADMIN_PASSWORD_FILE = "admin-password"
_HOW = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class InsecureConfiguration(RuntimeError):
    """The shop refuses to start; the message is one line saying what to change."""


def local_dir(settings: Settings) -> Path | None:
    """The folder of the SQLite database file (where generated secrets live), or ``None``."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve().parent


def _check_jwt_secret(secret: str, source: str) -> None:
    if secret in KNOWN_JWT_SECRETS:
        raise InsecureConfiguration(
            f"{source} is a publicly known value: set SHOP_JWT_SECRET to a new random one "
            f"(e.g. `{_HOW}`)"
        )
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        raise InsecureConfiguration(
            f"{source} is too short ({len(secret.encode())} bytes): it needs at least "
            f"{MIN_JWT_SECRET_BYTES} random bytes (e.g. `{_HOW}`)"
        )


def _check_admin_password(password: str, source: str) -> None:
    if password in KNOWN_ADMIN_PASSWORDS:
        raise InsecureConfiguration(
            f"{source} is a publicly known password: choose another one, or unset it to "
            "have one generated (local SQLite only)"
        )
    if len(password) < MIN_ADMIN_PASSWORD_LENGTH:
        raise InsecureConfiguration(
            f"{source} is too short: use at least {MIN_ADMIN_PASSWORD_LENGTH} characters"
        )


def check_settings(settings: Settings) -> None:
    """Refuse known, weak or (outside the local default) missing secrets; reads no file."""
    local = local_dir(settings)
    if settings.jwt_secret is not None:
        _check_jwt_secret(settings.jwt_secret, "SHOP_JWT_SECRET")
    elif local is None:
        raise InsecureConfiguration(
            "SHOP_JWT_SECRET is not set: a shop on a database server needs a secret of at least "
            f"{MIN_JWT_SECRET_BYTES} random bytes (e.g. `{_HOW}`)"
        )
    if not settings.admin_username:
        return
    if settings.admin_password is not None:
        _check_admin_password(settings.admin_password, "SHOP_ADMIN_PASSWORD")
    elif local is None:
        raise InsecureConfiguration(
            f"SHOP_ADMIN_PASSWORD is not set for the admin user {settings.admin_username!r}: "
            "a shop on a database server needs it"
        )


def _read_or_create(path: Path, make: str) -> tuple[str, bool]:
    """The value stored in ``path``, or ``make`` stored there (mode 0600) if absent.

    Creation is atomic (a private temporary file hard-linked into place), so two workers
    starting at once agree on one value. Returns the value and whether it was created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp: mode 0600
                file.write(make + "\n")
            os.link(temporary, path)
            return make, True
        except FileExistsError:
            pass  # another process stored its value first: use that one
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return path.read_text(encoding="utf-8").strip(), False


def _say(line: str) -> None:
    print(f"shop: {line}", file=sys.stderr, flush=True)


def resolve_jwt_secret(settings: Settings) -> Settings:
    """``settings`` with its JWT secret: the configured one, or the installation's own.

    Prints where a generated secret lives (never the secret).
    """
    if settings.jwt_secret is not None:
        return settings
    folder = local_dir(settings)
    if folder is None:  # check_settings refused this already; keep it impossible here
        raise InsecureConfiguration("SHOP_JWT_SECRET is not set")
    path = folder / JWT_SECRET_FILE
    secret, created = _read_or_create(path, secrets.token_urlsafe(48))
    _check_jwt_secret(secret, str(path))
    _say(f"JWT secret {'generated into' if created else 'read from'} {path} (mode 0600)")
    return settings.model_copy(update={"jwt_secret": secret})


@dataclass(frozen=True)
class AdminPassword:
    """The seeded admin's password and, when generated, the file keeping it."""

    value: str
    path: Path | None = None


def admin_password(settings: Settings) -> AdminPassword | None:
    """The configured admin password, or the installation's generated one (stored beside the
    SQLite file, mode 0600); ``None`` when no admin is to be seeded."""
    if not settings.admin_username:
        return None
    if settings.admin_password is not None:
        return AdminPassword(settings.admin_password)
    folder = local_dir(settings)
    if folder is None:
        raise InsecureConfiguration("SHOP_ADMIN_PASSWORD is not set")
    path = folder / ADMIN_PASSWORD_FILE
    value, _ = _read_or_create(path, secrets.token_urlsafe(18))
    _check_admin_password(value, str(path))
    return AdminPassword(value, path)


def announce_admin(username: str, password: AdminPassword, *, created: bool) -> None:
    """Say where a generated admin password lives; the password itself only when created."""
    if password.path is None:
        return
    if created:
        _say(
            f"created the admin user {username!r} with the generated password "
            f"{password.value} (kept in {password.path}, mode 0600)"
        )
    else:
        _say(f"the admin user {username!r}: its generated password is in {password.path}")
