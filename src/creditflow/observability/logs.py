"""Log lines that carry the request id, as text (default) or one JSON object a line (CREDITFLOW_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# Set by the request middleware (http/observe.py) for the life of one request; "-" outside requests.
request_id: ContextVar[str] = ContextVar("creditflow_request_id", default="-")

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Drivers that log every statement with its bound values (webhook secrets, key hashes) at DEBUG or INFO:
# kept at WARNING whatever CREDITFLOW_LOG_LEVEL says, so no level setting puts a secret in the logs.
STATEMENT_LOGGERS = ("sqlalchemy.engine", "aiosqlite", "asyncpg", "stripe", "razorpay", "urllib3", "httpcore")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id, whoever logged it (uvicorn, SQLAlchemy, ours)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id.get()),
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for the whole process (given to uvicorn as its log_config, or applied by `worker`)."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JSONFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler", "formatter": "default", "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        # uvicorn's loggers propagate to the root handler, so they share the format and the request id.
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in UVICORN_LOGGERS},
            **{name: {"level": "WARNING"} for name in STATEMENT_LOGGERS},
        },
    }


def configure_logging(log_format: str, level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(log_format, level))
