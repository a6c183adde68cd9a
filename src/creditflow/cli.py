"""The `creditflow` command: serve, worker, migrate, keys, users, check."""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import SystemClock
from creditflow.config import Settings
from creditflow.console import passwords
from creditflow.console import service as users
from creditflow.console.models import ConsoleUser, Role
from creditflow.db.engine import create_engine
from creditflow.db.migrate import upgrade
from creditflow.db.tx import Tx
from creditflow.errors import DomainError
from creditflow.jobs.runner import JobRunner
from creditflow.keys import service as keys
from creditflow.ledger.check import find_discrepancies
from creditflow.maintenance import backup as backups
from creditflow.maintenance import copy as copying
from creditflow.maintenance import importer
from creditflow.observability.logs import configure_logging, logging_config
from creditflow.observability.metrics import MULTIPROCESS_ENV

app = typer.Typer(help="creditflow: prepaid credits and usage billing.", no_args_is_help=True)
keys_app = typer.Typer(help="Operator API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
users_app = typer.Typer(help="Console users (operators who sign in to /console).", no_args_is_help=True)
app.add_typer(users_app, name="users")
import_app = typer.Typer(help="Bring data in from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")

T = TypeVar("T")
CLI_ACTOR = "cli"
WORKER_HEALTHCHECK_SECONDS = 30


def _run(work: Callable[[AsyncEngine], Awaitable[T]], settings: Settings | None = None) -> T:
    async def main() -> T:
        engine = create_engine(settings or Settings(), pooled=False)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _in_tx(engine: AsyncEngine, work: Callable[[Tx], Awaitable[T]]) -> T:
    async with engine.begin() as conn:
        return await work(Tx(conn=conn, now=SystemClock().now(), actor=CLI_ACTOR))


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    _run(upgrade)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: CREDITFLOW_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: CREDITFLOW_PORT or 8000.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes.")] = 1,
    no_jobs: Annotated[bool, typer.Option("--no-jobs", help="Serve the API only; run jobs elsewhere.")] = False,
) -> None:
    """Migrate the database, create a first operator key if there is none, and serve the API."""
    import uvicorn

    settings = Settings()

    async def prepare(engine: AsyncEngine) -> str | None:
        await upgrade(engine)

        async def first_key(tx: Tx) -> str | None:
            if await keys.count_active_keys(tx):
                return None
            _, secret = await keys.create_key(tx, "default")
            return secret

        return await _in_tx(engine, first_key)

    secret = _run(prepare, settings)
    if secret:
        typer.echo("Created the first operator key (shown once; store it now):")
        typer.echo(secret)
    # Each worker builds its settings from the environment, so options given here must reach it there too:
    # the sandbox's checkout links and notifications are addressed to this host and port.
    if host is not None:
        os.environ["CREDITFLOW_HOST"] = host
    if port is not None:
        os.environ["CREDITFLOW_PORT"] = str(port)
    if no_jobs:
        os.environ["CREDITFLOW_JOBS_ENABLED"] = "false"
    if workers > 1 and not os.environ.get(MULTIPROCESS_ENV):
        # Set before the workers start, so each keeps its metrics in files that any worker's /metrics sums.
        os.environ[MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="creditflow-metrics-")
    uvicorn.run(
        "creditflow.app:app_from_env", factory=True, host=host or settings.host, port=port or settings.port,
        workers=workers, log_config=logging_config(settings.log_format, settings.log_level), access_log=False,
        # A worker still importing on a busy machine misses uvicorn's 5 s ping and is killed and respawned in a loop.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@app.command()
def worker() -> None:
    """Run the job runner alone (expiry sweeps and housekeeping) until interrupted."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)

    async def run(engine: AsyncEngine) -> None:
        await upgrade(engine)
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, task.cancel)
        logging.getLogger("creditflow.jobs").info("worker started")
        try:
            await JobRunner(engine, SystemClock(), settings).run_forever()
        except asyncio.CancelledError:
            logging.getLogger("creditflow.jobs").info("worker stopped")

    _run(run, settings)


@app.command()
def check() -> None:
    """Recompute every cached balance from the ledger; exit 1 naming each discrepancy."""

    async def run(engine: AsyncEngine) -> list[str]:
        return await _in_tx(engine, find_discrepancies)

    problems = _run(run)
    if problems:
        for problem in problems:
            typer.echo(f"DISCREPANCY {problem}", err=True)
        raise typer.Exit(1)
    typer.echo("ledger is consistent")


class Scope(StrEnum):
    all = keys.ALL_SCOPES
    usage = keys.USAGE_SCOPE


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What this key is for.")],
    scope: Annotated[
        Scope, typer.Option(help="all: every endpoint. usage: verify keys, capture/void holds, send or price events.")
    ] = Scope.all,
) -> None:
    """Create an operator key. The secret is printed alone on the last line, once."""

    async def run(engine: AsyncEngine) -> tuple[keys.OperatorKey, str]:
        return await _in_tx(engine, lambda tx: keys.create_key(tx, name, scope.value))

    key, secret = _run(run)
    typer.echo(f"created operator key {key.id} ({key.name}, scope {key.scopes})")
    typer.echo(secret)


@keys_app.command("list")
def keys_list() -> None:
    """List operator keys (never their secrets)."""

    async def run(engine: AsyncEngine) -> list[keys.OperatorKey]:
        return await _in_tx(engine, keys.list_keys)

    for key in _run(run):
        state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        typer.echo(
            f"{key.id}\t{key.name}\tscope {key.scopes}\t{key.prefix}...\t{state}\tcreated {key.created_at.isoformat()}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")]) -> None:
    """Revoke an operator key: it gets 401 from then on."""

    async def run(engine: AsyncEngine) -> keys.OperatorKey:
        return await _in_tx(engine, lambda tx: keys.revoke_key(tx, key_id))

    try:
        key = _run(run)
    except DomainError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {key.id}")


def _run_or_fail(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    try:
        return _run(work)
    except DomainError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None


def _new_password() -> tuple[str, bool]:
    """Asked for (twice, hidden) on a terminal; otherwise generated, to be printed once. (password, generated)"""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return passwords.generate_password(), True


def _user_line(user: ConsoleUser) -> str:
    state = f"disabled {user.disabled_at.isoformat()}" if user.disabled_at else "active"
    totp = "totp" if user.totp_enabled else "no totp"
    return f"{user.id}\t{user.email}\t{user.role}\t{state}\t{totp}\tcreated {user.created_at.isoformat()}"


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Their sign-in email.")],
    role: Annotated[Role, typer.Option(help="viewer reads; admin also moves money and configures; owner also "
                                       "manages users and keys.")],
) -> None:
    """Create a console user. Prompts for the password on a terminal; otherwise prints a generated one, once."""
    password, generated = _new_password()
    user = _run_or_fail(lambda engine: _in_tx(
        engine, lambda tx: users.create_user(tx, email=email, role=role, password=password)))
    typer.echo(f"created console user {user.id} ({user.email}, {user.role})")
    if generated:
        typer.echo(password)


@users_app.command("list")
def users_list() -> None:
    """List console users (never their passwords)."""
    for user in _run(lambda engine: _in_tx(engine, users.list_users)):
        typer.echo(_user_line(user))


@users_app.command("disable")
def users_disable(user_id: Annotated[str, typer.Argument(help="The user's id (usr_...).")]) -> None:
    """Disable a console user: they can no longer sign in."""
    user = _run_or_fail(lambda engine: _in_tx(engine, lambda tx: users.disable_user(tx, user_id)))
    typer.echo(f"disabled {user.id}")


@users_app.command("reset-password")
def users_reset_password(user_id: Annotated[str, typer.Argument(help="The user's id (usr_...).")]) -> None:
    """Set a new password: prompted on a terminal, otherwise generated and printed once."""
    password, generated = _new_password()
    user = _run_or_fail(lambda engine: _in_tx(engine, lambda tx: users.reset_password(tx, user_id, password)))
    typer.echo(f"reset the password of {user.id}")
    if generated:
        typer.echo(password)


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="A new file for the copy.")]) -> None:
    """SQLite: a consistent online copy, safe while serving. PostgreSQL: prints the pg_dump command to use."""
    settings = Settings()
    try:
        source = backups.sqlite_path(settings.database_url)
        if source is None:
            typer.echo("On PostgreSQL, back up with pg_dump (a consistent snapshot, safe while serving):")
            typer.echo(backups.pg_dump_command(settings.database_url, str(path)))
            raise typer.Exit(2)
        size = backups.backup_sqlite(source, path)
    except backups.BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backed up {source} to {path} ({size} bytes, integrity ok)")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A file made by `creditflow backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing database.")] = False,
) -> None:
    """SQLite: replace the database with a backup, then migrate it to this version's schema."""
    settings = Settings()
    try:
        target = backups.sqlite_path(settings.database_url)
        if target is None:
            typer.echo("On PostgreSQL, restore a pg_dump file with pg_restore:")
            typer.echo(backups.pg_restore_command(settings.database_url, str(path)))
            raise typer.Exit(2)
        if target.exists() and target.stat().st_size and not force:
            raise backups.BackupError(f"{target} exists; stop every creditflow process and add --force to replace it")
        backups.restore_sqlite(path, target)
    except backups.BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    _run(upgrade, settings)
    typer.echo(f"restored {target} from {path}; schema up to date")


@app.command("copy")
def copy_database(
    to: Annotated[str, typer.Option("--to", help="An empty database: postgresql+asyncpg://user@host/db.")],
) -> None:
    """Copy this installation's database (CREDITFLOW_DATABASE_URL) into an empty one, and verify the copy."""
    settings = Settings()

    async def run(source: AsyncEngine) -> list[str]:
        target = create_engine(Settings(database_url=to), pooled=False)
        try:
            await copying.ensure_empty(target)
            async with source.connect() as conn:
                expected = await copying.row_counts(conn)
            with typer.progressbar(length=sum(expected.values()) or 1, label="copying rows") as bar:
                await copying.copy_tables(source, target, bar.update)
            async with target.connect() as conn:
                copied = await copying.row_counts(conn)
            problems = [f"{name}: {expected[name]} rows in the source, {copied[name]} in the target"
                        for name in expected if expected[name] != copied[name]]
            for label, engine in (("source", source), ("target", target)):
                problems += [f"{label}: {p}" for p in await _in_tx(engine, find_discrepancies)]
            typer.echo(f"copied {sum(copied.values())} rows in {len(copied)} tables")
            return problems
        finally:
            await target.dispose()

    try:
        problems = _run(run, settings)
    except copying.CopyRefused as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    for problem in problems:
        typer.echo(f"MISMATCH {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("row counts match; creditflow check is clean on both databases")


@import_app.command("customers")
def import_customers(
    file: Annotated[Path, typer.Argument(help=f"CSV with a header; columns: {', '.join(importer.COLUMNS)}.")],
) -> None:
    """Customers with opening balances (paid grants). All or nothing; customers already imported are skipped."""
    settings = Settings()
    try:
        rows, problems = importer.read_rows(file, settings.default_currency)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        typer.echo(f"error: cannot read {file}: {error}", err=True)
        raise typer.Exit(1) from None
    if problems:
        for problem in problems:
            typer.echo(f"{file}: {problem}", err=True)
        typer.echo(f"nothing imported: {len(problems)} bad line(s)", err=True)
        raise typer.Exit(1)

    async def run(engine: AsyncEngine) -> importer.Outcome:
        await upgrade(engine)
        with typer.progressbar(length=len(rows) or 1, label="importing customers") as bar:
            return await _in_tx(engine, lambda tx: importer.import_rows(tx, rows, bar.update))

    try:
        outcome = _run(run, settings)
    except DomainError as error:
        typer.echo(f"error: nothing imported: {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {outcome.created} customer(s) ({outcome.granted} with an opening balance); "
               f"skipped {outcome.skipped} already imported")
