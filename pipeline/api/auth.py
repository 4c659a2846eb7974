"""Who may use the API: roles, credentials, and signed console sessions.

API clients send ``Authorization: Bearer <token>``; people log in on the console
and get a session cookie.  Credentials come from ``PIPELINE_API_TOKENS``,
``PIPELINE_API_USERS`` and ``PIPELINE_API_CREDENTIALS_FILE`` (see
:class:`~pipeline.settings.Settings`).  Passwords are stored only as argon2
hashes; tokens are compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import time
import tomllib
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.errors import ConfigurationError
from pipeline.settings import Settings


class Role(IntEnum):
    """What a caller may do; each role may do everything the roles below it may.

    viewer: read everything.  operator: retry, cancel, promote, pause/resume, clean,
    remove a job.  admin: add jobs, empty or remove queues, manage repeats and rate limits.
    """

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str, where: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ConfigurationError(
                f"{where}: unknown role {text!r} (one of viewer, operator, admin)"
            ) from None


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its name, its role, and how it proved who it is."""

    name: str
    role: Role
    via: str  # "token", "session" or "open" (no credentials configured)
    csrf: str = field(default="", repr=False)
    session_id: str = field(default="", repr=False)
    expires: float = 0.0


_hasher = PasswordHasher()
# Verifying an unknown user's password against this keeps a failed login as slow for
# a name that does not exist as for one that does, so timing does not reveal names.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, for ``PIPELINE_API_USERS`` or the credentials file."""
    if len(password) < 8:
        raise ConfigurationError("a console password needs at least 8 characters")
    return _hasher.hash(password)


def _digest(token: str) -> bytes:
    # Comparing fixed-length digests keeps the comparison's time independent of the token's length.
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class _Token:
    name: str
    role: Role
    digest: bytes = field(repr=False)


@dataclass(frozen=True)
class _User:
    name: str
    role: Role
    password_hash: str = field(repr=False)


_ENTRY_SPLIT = re.compile(r"[\s;]+")


class Credentials:
    """The configured tokens and users.  Empty means the API has no credentials at all."""

    def __init__(self, tokens: list[_Token] | None = None, users: list[_User] | None = None) -> None:
        self._tokens = tokens or []
        self._users = {u.name: u for u in users or []}

    @classmethod
    def of(
        cls,
        *,
        tokens: dict[str, tuple[str, str]] | None = None,
        users: dict[str, tuple[str, str]] | None = None,
    ) -> Credentials:
        """Build credentials in code: ``tokens={name: (role, token)}``, ``users={name: (role, password)}``."""
        return cls(
            [_Token(n, Role.parse(r, f"token {n!r}"), _digest(t)) for n, (r, t) in (tokens or {}).items()],
            [_User(n, Role.parse(r, f"user {n!r}"), hash_password(p)) for n, (r, p) in (users or {}).items()],
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Credentials:
        tokens = [_token_entry(e, "PIPELINE_API_TOKENS") for e in _entries(settings.api_tokens)]
        users = [_user_entry(e, "PIPELINE_API_USERS") for e in _entries(settings.api_users)]
        if settings.api_credentials_file:
            more_tokens, more_users = _read_file(Path(settings.api_credentials_file))
            tokens += more_tokens
            users += more_users
        return cls(tokens, users)

    @property
    def empty(self) -> bool:
        return not self._tokens and not self._users

    @property
    def has_users(self) -> bool:
        return bool(self._users)

    def check_token(self, token: str) -> Principal | None:
        digest = _digest(token)
        found: _Token | None = None
        for entry in self._tokens:  # every entry is compared, so timing says nothing of which matched
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        return None if found is None else Principal(found.name, found.role, "token")

    def check_password(self, name: str, password: str) -> tuple[str, Role] | None:
        user = self._users.get(name)
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return None if user is None else (user.name, user.role)


def _entries(raw: str) -> list[str]:
    return [e for e in _ENTRY_SPLIT.split(raw.strip()) if e]


def _split3(entry: str, where: str, third: str) -> tuple[str, str, str]:
    parts = entry.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ConfigurationError(
            f"{where}: entries look like name:role:{third}, got one with {len(parts)} part(s)"
        )
    return parts[0], parts[1], parts[2]


def _token_entry(entry: str, where: str) -> _Token:
    name, role, token = _split3(entry, where, "token")
    if len(token) < 16:
        raise ConfigurationError(f"{where}: the token of {name!r} is shorter than 16 characters")
    return _Token(name, Role.parse(role, f"{where} ({name!r})"), _digest(token))


def _user_entry(entry: str, where: str) -> _User:
    name, role, password_hash = _split3(entry, where, "argon2-hash")
    if not password_hash.startswith("$argon2"):
        raise ConfigurationError(
            f"{where}: the password of {name!r} must be an argon2 hash "
            "(make one with 'pipeline hash-password')"
        )
    return _User(name, Role.parse(role, f"{where} ({name!r})"), password_hash)


def _read_file(path: Path) -> tuple[list[_Token], list[_User]]:
    where = f"credentials file {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{where}: not valid TOML ({exc})") from None
    tokens = [
        _token_entry(
            f"{_field(t, 'name', where)}:{_field(t, 'role', where)}:{_field(t, 'token', where)}", where
        )
        for t in _tables(data, "tokens", where)
    ]
    users = [
        _user_entry(
            f"{_field(u, 'name', where)}:{_field(u, 'role', where)}:{_field(u, 'password_hash', where)}",
            where,
        )
        for u in _tables(data, "users", where)
    ]
    return tokens, users


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigurationError(f"{where}: '{key}' must be an array of tables ([[{key}]])")
    return value


def _field(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{where}: every entry needs a non-empty string '{key}'")
    return value


# -- console sessions --------------------------------------------------------------------------


class SessionSigner:
    """Signs and checks console session cookies (HMAC-SHA256 over a small JSON payload)."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._key = hashlib.sha256(("pipeline-session:" + secret).encode()).digest()
        self.ttl_s = ttl_s

    def issue(self, name: str, role: Role, via: str = "session") -> tuple[str, Principal]:
        principal = Principal(
            name,
            role,
            via,
            csrf=secrets.token_urlsafe(24),
            session_id=secrets.token_urlsafe(12),
            expires=time.time() + self.ttl_s,
        )
        payload = {
            "n": name,
            "r": int(role),
            "v": via,
            "c": principal.csrf,
            "s": principal.session_id,
            "e": principal.expires,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{_b64(self._mac(body))}", principal

    def read(self, cookie: str) -> Principal | None:
        body, _, mac = cookie.partition(".")
        try:
            if not hmac.compare_digest(_unb64(mac), self._mac(body)):
                return None
            payload = json.loads(_unb64(body))
            principal = Principal(
                str(payload["n"]),
                Role(int(payload["r"])),
                str(payload["v"]),
                csrf=str(payload["c"]),
                session_id=str(payload["s"]),
                expires=float(payload["e"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return principal if principal.expires > time.time() else None

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refuse_unprotected(host: str, credentials: Credentials, *, allow_unauthenticated: bool) -> None:
    """Raise (one line saying how to add credentials) when the API would serve a
    non-loopback address with no credentials, unless explicitly allowed."""
    if not credentials.empty or allow_unauthenticated or is_loopback(host):
        return
    raise ConfigurationError(
        f"refusing to serve the API on {host} with no credentials: set PIPELINE_API_TOKENS="
        f"'name:role:token' or PIPELINE_API_USERS='name:role:<hash from pipeline hash-password>' "
        f"(or PIPELINE_API_CREDENTIALS_FILE), or pass --allow-unauthenticated on a trusted network"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
