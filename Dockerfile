# creditflow: `creditflow serve` as a non-root user; the database lives in /data (SQLite) or elsewhere
# (CREDITFLOW_DATABASE_URL=postgresql+asyncpg://...). Build: docker build -t creditflow .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN groupadd --system --gid 10001 creditflow \
    && useradd --system --uid 10001 --gid creditflow --home-dir /data --create-home creditflow
COPY --from=build /install /usr/local
ENV PYTHONUNBUFFERED=1 \
    CREDITFLOW_HOST=0.0.0.0 \
    CREDITFLOW_PORT=8000 \
    CREDITFLOW_DATABASE_URL=sqlite+aiosqlite:////data/creditflow.db \
    CREDITFLOW_LOG_FORMAT=json
WORKDIR /data
USER 10001:10001
EXPOSE 8000
# Readiness, not liveness: the database must answer. Python's own urllib, so the image needs no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('CREDITFLOW_PORT', '8000')}/health/ready\", timeout=4)"]
ENTRYPOINT ["creditflow"]
CMD ["serve"]
