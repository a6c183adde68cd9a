"""Backups: SQLite through its online backup API; PostgreSQL through pg_dump (the command is printed)."""

from __future__ import annotations

import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """Nothing was written; the message says why."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL, or None for another engine."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def backup_sqlite(source: Path, target: Path) -> int:
    """A consistent copy of `source` at `target`, taken while other processes keep writing; returns its size.

    The backup API copies one snapshot (a read transaction, which WAL mode lets writers run beside); it goes
    to a temporary file renamed into place, so `target` is never a half-written database.
    """
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new path")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
        src.backup(dst)
        _check_integrity(dst, partial)
    partial.rename(target)
    return target.stat().st_size


def restore_sqlite(backup: Path, target: Path) -> None:
    """Replace the database at `target` with `backup`'s content, through the same API (other connections see
    either the old database or the restored one, never a mix)."""
    if not backup.exists():
        raise BackupError(f"{backup} does not exist")
    with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src:
        _check_integrity(src, backup)
        if src.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is None:
            raise BackupError(f"{backup} is not a creditflow database (it has no alembic_version table)")
        with closing(sqlite3.connect(target)) as dst:
            src.backup(dst)


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path} failed PRAGMA integrity_check: {result}")


def pg_dump_command(database_url: str, target: str) -> str:
    """The pg_dump call that backs up this PostgreSQL database (custom format; restore with pg_restore)."""
    url = make_url(database_url)
    return shlex.join(["pg_dump", "--format=custom", f"--file={target}", _libpq_url(url)])


def pg_restore_command(database_url: str, backup: str) -> str:
    url = make_url(database_url)
    return shlex.join(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={_libpq_url(url)}", backup])


def _libpq_url(url: URL) -> str:
    """The URL libpq tools take: no driver, and no password (give it as PGPASSWORD or in ~/.pgpass)."""
    bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database)
    return bare.render_as_string(hide_password=False)
