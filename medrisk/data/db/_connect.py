"""Connecting to a SQL database: the ``database`` section of a mapping file, URLs, engines.

:func:`database_settings` reads and checks the ``database`` section of a
mapping file (what each key does is told in :mod:`medrisk.data.db`).
:func:`mask_url` gives a URL as text with its password masked. Reading
(:func:`medrisk.data.db.load_ledger_from_db`) and writing
(:func:`medrisk.data.db.write_tables_to_db`) both turn a URL and
``password_env`` into a SQLAlchemy engine here, and report a driver's errors
in its own words without the password.

Passwords never go in a file: a password inside ``database.url`` is refused;
name an environment variable in ``password_env``. Every message shows the URL
with the password masked.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode

import pandas as pd
from ruamel.yaml import YAML

from medrisk.config import resolve_path
from medrisk.exceptions import ParamsError, SourceError

__all__ = [
    "database_settings",
    "DatabaseSettings",
    "mask_url",
    "DEFAULT_CHUNK_ROWS",
]

#: Rows fetched per round trip when the mapping does not say.
DEFAULT_CHUNK_ROWS = 100_000
#: Keys allowed in the mapping file's ``database`` section.
DATABASE_KEYS = ("url", "password_env", "schema", "chunk_rows", "since", "cache", "offline",
                 "quarantine")


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------
@dataclass
class DatabaseSettings:
    """The ``database`` section of a mapping file, checked.

    Attributes
    ----------
    url : str or None
        SQLAlchemy URL without a password.
    password_env : str or None
        Name of the environment variable holding the password.
    schema : str or None
        Database schema of the tables.
    chunk_rows : int
        Rows per fetch.
    since : Timestamp or None
        Read limit (see the module docstring).
    cache : Path or None
        Folder of the Parquet cache.
    offline : bool
        Read the cache instead of the database.
    quarantine : Path or None
        Folder for ``<table>.quarantine.csv``.
    where : str
        The mapping file, for messages.
    """

    url: str | None = None
    password_env: str | None = None
    schema: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    since: pd.Timestamp | None = None
    cache: Path | None = None
    offline: bool = False
    quarantine: Path | None = None
    where: str = "mapping"


def _load_yaml(mapping) -> tuple[dict, str]:
    if mapping is None:
        return {}, "mapping"
    if isinstance(mapping, Mapping):
        return dict(mapping), "mapping"
    path = Path(mapping)
    if not path.exists():
        raise SourceError(f"Mapping file {path} does not exist.")
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except Exception as exc:  # ruamel raises many error types
        raise ParamsError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(data, Mapping):
        raise ParamsError(f"{path}: expected a mapping with 'database' and 'tables'; "
                          f"got {type(data).__name__}.")
    return dict(data), str(path)


def database_settings(mapping: str | os.PathLike | Mapping | None) -> DatabaseSettings:
    """Read and check the ``database`` section of a mapping file.

    Parameters
    ----------
    mapping : str, path, dict or None
        A mapping file (YAML) or the equivalent dict.

    Returns
    -------
    DatabaseSettings

    Raises
    ------
    ParamsError
        For an unknown key, a value of the wrong kind, or a password written
        into ``database.url``.
    """
    data, where = _load_yaml(mapping)
    section = data.get("database") or {}
    if not isinstance(section, Mapping):
        raise ParamsError(f"{where}: 'database' must be a mapping of {list(DATABASE_KEYS)}; "
                          f"got {type(section).__name__}.")
    unknown = sorted(set(section) - set(DATABASE_KEYS))
    if unknown:
        raise ParamsError(f"{where}: database has unknown key(s) {unknown}; "
                          f"allowed keys are {list(DATABASE_KEYS)}.")
    out = DatabaseSettings(where=where)
    for key in ("url", "password_env", "schema"):
        value = section.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            shown = "a value" if key == "url" else repr(value)
            raise ParamsError(f"{where}: database.{key} must be a non-empty string; got {shown}.")
        setattr(out, key, value.strip() if isinstance(value, str) else None)
    if out.url is not None:
        url = _parse_url(out.url)
        if url.password is not None:
            raise ParamsError(
                f"{where}: database.url ({mask_url(url)}) contains a password. Remove it from "
                "the file and put the password in an environment variable named by "
                "database.password_env (for example password_env: MEDRISK_DB_PASSWORD)."
            )
    env_name = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    if out.password_env is not None and not env_name.fullmatch(out.password_env):
        raise ParamsError(f"{where}: database.password_env must be the name of an environment "
                          f"variable such as MEDRISK_DB_PASSWORD; got {out.password_env!r}.")
    chunk = section.get("chunk_rows", DEFAULT_CHUNK_ROWS)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ParamsError(f"{where}: database.chunk_rows must be a whole number of rows, at "
                          f"least 1; got {chunk!r}.")
    out.chunk_rows = chunk
    since = section.get("since")
    if since is not None:
        try:
            ts = pd.Timestamp(since)
        except (ValueError, TypeError):
            ts = pd.NaT
        if ts is pd.NaT or ts != ts.normalize():
            raise ParamsError(f"{where}: database.since must be a date such as '2023-11-01'; "
                              f"got {since!r}.")
        out.since = ts
    offline = section.get("offline", False)
    if not isinstance(offline, bool):
        raise ParamsError(f"{where}: database.offline must be true or false; got {offline!r}.")
    out.offline = offline
    for key in ("cache", "quarantine"):
        value = section.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise ParamsError(f"{where}: database.{key} must be a folder path; got {value!r}.")
        setattr(out, key, Path(resolve_path(str(value))))
    return out


# ---------------------------------------------------------------------------
# URLs and messages
# ---------------------------------------------------------------------------
def _parse_url(text: str):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError, TypeError):
        scheme = text.split("://", 1)[0] if "://" in text else "?"
        raise SourceError(
            f"A database URL starting {scheme + '://'!r} could not be read. Expected the "
            "SQLAlchemy form dialect+driver://user@host:port/database, for example "
            "postgresql+psycopg://medrisk@db.example.com:5432/erp or sqlite:///data/erp.db."
        ) from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # the driver medrisk installs
    return url


def mask_url(url) -> str:
    """Return the URL as text with its password replaced by ``***``.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL

    Returns
    -------
    str
    """
    if isinstance(url, str):
        url = _parse_url(url)
    return url.render_as_string(hide_password=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _driver_message(exc: BaseException, secrets: list[str]) -> str:
    """Give the database's own words for an error, without boilerplate or secrets."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)
    text = " ".join(text.split())
    return _scrub(text, secrets)


# ---------------------------------------------------------------------------
# Connecting
# ---------------------------------------------------------------------------
def _connect_url(source: str | None, settings: DatabaseSettings):
    text = source if source else settings.url
    if not text:
        raise ParamsError(
            f"{settings.where}: no database URL. Give it as the source "
            "(load_ledger('postgresql+psycopg://user@host:5432/db', mapping)) or as "
            "database.url in the mapping file."
        )
    url = _parse_url(text)
    if settings.password_env:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise ParamsError(
                f"{settings.where}: database.password_env is {settings.password_env}, but no "
                f"environment variable {settings.password_env} is set. Set it to the password "
                f"of {mask_url(url)} before loading."
            )
        url = url.set(password=password)
    secrets = [url.password] if url.password else []
    if url.password:
        secrets.append(quote_plus(url.password))
    return url, secrets


def _sqlite_read_only(url):
    """Return a connect function that opens the SQLite file of ``url`` read-only."""
    db = url.database or ""
    if not db or db == ":memory:":
        raise SourceError(f"{mask_url(url)}: an in-memory SQLite database holds no company data; "
                          "give a file, e.g. sqlite:///data/erp.db.")
    path, _, query = db.removeprefix("file:").partition("?")
    params = [(k, v) for k, v in parse_qsl(query) if k != "mode"] + [("mode", "ro")]
    target = f"file:{quote(path)}?{urlencode(params)}"
    return lambda: sqlite3.connect(target, uri=True, check_same_thread=False)


def _engine(url, read_only: bool = False):
    """Return a SQLAlchemy engine for ``url``; with ``read_only``, every session is read-only.

    PostgreSQL sessions start with ``default_transaction_read_only`` on, so every
    transaction, including one begun after a smuggled ``COMMIT``, refuses to write.
    SQLite files are opened with ``mode=ro`` (whatever mode a ``file:`` URI asks for), so
    nothing can be written and no file is created.
    """
    import sqlalchemy as sa

    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 15, "application_name": "medrisk"}
        if read_only:
            kwargs["connect_args"]["options"] = "-c default_transaction_read_only=on"
    elif url.get_backend_name() == "sqlite" and read_only:
        kwargs["creator"] = _sqlite_read_only(url)
        url = url.set(query={})  # the creator opens the file; the URL's options are in it
    try:
        return sa.create_engine(url, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise SourceError(
            f"{mask_url(url)}: SQLAlchemy knows no database kind {url.drivername!r}. Use "
            "postgresql+psycopg://user@host:5432/db or sqlite:///path/file.db (other databases "
            "need their SQLAlchemy dialect and driver installed)."
        ) from None
    except ImportError as exc:
        raise SourceError(
            f"{mask_url(url)}: the database driver for {url.drivername!r} is not installed "
            f"({exc.name or exc}). Install it with pip, or use postgresql+psycopg:// or sqlite:///."
        ) from None
