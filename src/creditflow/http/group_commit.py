"""Group commit: concurrent requests of one kind share a database transaction.

Each process runs a few consumers. A consumer takes every request waiting in the queue (up to
`max_batch`), runs them through a set-based `execute` in ONE transaction, renders each answer, stores
idempotent replays in that same transaction, and commits once. With 32 clients this turns 32 commits
(and 32 x N statements) into one commit and a handful of statements. Operator keys are verified
inside the batch's transaction, so a revoked key is refused exactly as on the per-request path.
If a whole batch fails unexpectedly, its requests are re-run one by one so one bad request cannot
take the others down.

With `inline=True` there are no consumer tasks (nothing to start or stop with the app): a request that
finds a free slot (`consumers` of them) runs, in its own task, the batch of every request waiting at that
moment, its own included; the others wait for their answers. Used where the committer is created on
first use rather than by the app factory (POST /v1/events/batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import Request, Response
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import Clock
from creditflow.db.dialect import one_of_param
from creditflow.db.tables import idempotency_keys, operator_keys
from creditflow.db.tx import Tx
from creditflow.errors import DomainError, Unauthenticated
from creditflow.http import idempotency
from creditflow.http.errors import domain_error_response
from creditflow.keys.service import ALL_SCOPES, hash_key, scope_forbidden
from creditflow.observability import metrics

log = logging.getLogger("creditflow.group_commit")

R = TypeVar("R")
Out = TypeVar("Out")


@dataclass(slots=True, eq=False)
class _Submission(Generic[R]):
    item: R
    key_hash: str
    claim: idempotency.Claim | None
    future: asyncio.Future[Response] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    taken: bool = False
    queued_at: float = field(default_factory=time.perf_counter)


def _all_scopes(scopes: str) -> bool:
    return scopes == ALL_SCOPES


class GroupCommitter(Generic[R, Out]):
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        execute: Callable[[Tx, list[R]], Awaitable[list[Out | DomainError]]],
        render: Callable[[Out], Response],
        set_actor: Callable[[R, str], None],
        *,
        consumers: int = 2,
        max_batch: int = 256,
        permitted: Callable[[str], bool] = _all_scopes,
        inline: bool = False,
        name: str = "debits",
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._execute = execute
        self._render = render
        self._set_actor = set_actor
        self._consumers = consumers
        self._max_batch = max_batch
        self._permitted = permitted
        self._inline = inline
        self._queue: asyncio.Queue[_Submission[R]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._waiting: list[_Submission[R]] = []
        self._slots: asyncio.Semaphore | None = None
        self._batch_size = metrics.group_commit_batch_size.labels(name)
        self._wait = metrics.group_commit_wait.labels(name)

    async def submit(self, request: Request, item: R) -> Response:
        """Authenticate, claim the Idempotency-Key if any, and wait for the batch that runs `item`."""
        secret = idempotency.bearer_secret(request)
        if secret is None:
            return domain_error_response(
                Unauthenticated("send your operator key as 'Authorization: Bearer <key>'")
            )
        claim: idempotency.Claim | None = None
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            try:
                outcome = await idempotency.claim_for_request(request, key, self._clock.now())
            except DomainError as error:
                return domain_error_response(error)
            if isinstance(outcome, idempotency.Replay):
                return idempotency.replay_response(outcome)
            claim = outcome
        submission = _Submission(item, hash_key(secret), claim)
        if self._inline:
            return await self._lead(submission)
        self._ensure_started()
        assert self._queue is not None
        await self._queue.put(submission)
        return await submission.future

    async def _lead(self, submission: _Submission[R]) -> Response:
        """Wait for a slot; then, unless another request's batch has taken this one, run the waiting batch."""
        self._waiting.append(submission)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._consumers)
        async with self._slots:
            while not submission.taken:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: len(batch)]
                for taken in batch:
                    taken.taken = True
                # Its own task, shielded: the others' answers do not depend on this request staying around.
                await asyncio.shield(asyncio.create_task(self._run_or_split(batch)))
        return await submission.future

    def _ensure_started(self) -> None:
        if not self._tasks:
            self._queue = asyncio.Queue()
            self._tasks = [
                asyncio.create_task(self._consume(), name=f"group-commit-{i}") for i in range(self._consumers)
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _consume(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._run_or_split(batch)

    async def _run_or_split(self, batch: list[_Submission[R]]) -> None:
        started = time.perf_counter()
        self._batch_size.observe(len(batch))
        for submission in batch:
            self._wait.observe(started - submission.queued_at)
        try:
            await self._run(batch)
        except Exception as exc:
            if len(batch) == 1:
                await self._fail(batch[0], exc)
            else:
                log.warning("batch of %d failed (%s); re-running one by one", len(batch), exc)
                for submission in batch:
                    try:
                        await self._run([submission])
                    except Exception as single:
                        await self._fail(submission, single)

    async def _fail(self, submission: _Submission[R], exc: Exception) -> None:
        if submission.claim is not None:
            await idempotency.release(self._engine, submission.claim)
        if not submission.future.done():
            submission.future.set_exception(exc)

    async def _run(self, batch: list[_Submission[R]]) -> None:
        answers: list[tuple[_Submission[R], Response | Out | DomainError]] = []
        async with self._engine.begin() as conn:
            tx = Tx(conn=conn, now=self._clock.now(), actor="batch")
            actors = await _verify_keys(tx, {s.key_hash for s in batch})
            runnable = []
            for submission in batch:
                actor, scopes = actors.get(submission.key_hash, (None, None))
                if actor is None:
                    answers.append((submission, Unauthenticated("the operator key is not valid or has been revoked")))
                elif not self._permitted(scopes or ""):
                    answers.append((submission, scope_forbidden(scopes or "")))
                else:
                    self._set_actor(submission.item, actor)
                    runnable.append(submission)
            outcomes = await self._execute(tx, [s.item for s in runnable]) if runnable else []
            completions = []
            for submission, outcome in zip(runnable, outcomes, strict=True):
                if submission.claim is not None and not isinstance(outcome, DomainError):
                    # The stored replay must commit with the work, so this answer is rendered now.
                    response = self._render(outcome)
                    completions.append(
                        {"k_scope": submission.claim.scope, "k_key": submission.claim.key,
                         "k_status": response.status_code, "k_body": idempotency.redact(bytes(response.body))}
                    )
                    answers.append((submission, response))
                else:
                    answers.append((submission, outcome))
            if completions:
                await conn.execute(_COMPLETE, completions)
        for submission, answer in answers:
            response = self._respond(answer)
            if submission.claim is not None and response.status_code >= 400:
                await idempotency.release(self._engine, submission.claim)
            if not submission.future.done():
                submission.future.set_result(response)

    def _respond(self, answer: Response | Out | DomainError) -> Response:
        if isinstance(answer, Response):
            return answer
        if isinstance(answer, DomainError):
            return domain_error_response(answer)
        return self._render(answer)


_COMPLETE = (
    update(idempotency_keys)
    .where(idempotency_keys.c.scope == bindparam("k_scope"), idempotency_keys.c.key == bindparam("k_key"))
    .values(status="completed", response_status=bindparam("k_status"), response_body=bindparam("k_body"))
)


@functools.cache
def _active_keys_query(dialect: str) -> Select[Any]:
    return select(operator_keys.c.id, operator_keys.c.key_hash, operator_keys.c.scopes).where(
        one_of_param(dialect, operator_keys.c.key_hash, "hashes"), operator_keys.c.revoked_at.is_(None)
    )


async def _verify_keys(tx: Tx, hashes: set[str]) -> dict[str, tuple[str, str]]:
    """Each active key's (actor, scopes), by hash."""
    rows = await tx.conn.execute(_active_keys_query(tx.conn.dialect.name), {"hashes": sorted(hashes)})
    return {row.key_hash: (f"key:{row.id}", row.scopes) for row in rows}
