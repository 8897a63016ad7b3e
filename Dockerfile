# syntax=docker/dockerfile:1
# Credit-risk service: build, test, train (or take the registered production model), compile to one
# binary, and ship only that binary in a small image that runs as a non-root user.
ARG DENO_VERSION=2.9.6

FROM denoland/deno:debian-${DENO_VERSION} AS build
WORKDIR /app
ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
# The browser tests drive Debian's Chromium; nothing downloads a browser of its own.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# Dependencies first, so they stay cached while the sources change.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
RUN deno task test
RUN if ! grep -q '"stage": "production"' models/registry.json 2>/dev/null; then deno task train --quiet; fi
RUN deno task compile

FROM debian:bookworm-slim AS runtime
# The self-extracting binary unpacks beside itself on first start, so its folder belongs to its user.
RUN useradd --system --uid 10001 --create-home --home-dir /app credit
COPY --from=build --chown=credit:credit --chmod=0755 /app/dist/credit-risk /app/credit-risk
USER credit
WORKDIR /app
ENV PORT=8000 LOG_LEVEL=info
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD ["/app/credit-risk", "--healthcheck"]
ENTRYPOINT ["/app/credit-risk"]
