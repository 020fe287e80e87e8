# tbbot: one image for every process of a deployment (see docs/deploy.md).
# Build: docker build -t tbbot .   Run: docker compose up (compose.yaml)

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY treatment treatment
COPY storage storage
COPY scheduler scheduler
COPY bot bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# A user of its own with a fixed id, so a key file mounted from the host can be given to it
# (chown 10001) without being readable by anyone else.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home tbbot \
    && mkdir /data && chown tbbot:tbbot /data && chmod 0700 /data
COPY --from=build /install /usr/local
COPY scripts/docker-entrypoint.sh /usr/local/bin/tbbot-entrypoint
USER tbbot
WORKDIR /data
ENV TBBOT_DATA_DIR=/data \
    TBBOT_HTTP_LISTEN=0.0.0.0:8080 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["tbbot-entrypoint"]
CMD ["run"]
