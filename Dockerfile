# syntax=docker/dockerfile:1
# The credit-risk API as an image that needs no download when it runs: the deno binary, the app, the
# production model and the npm packages the server imports, run as a non-root user.
#
#   docker build -t credit-risk .                          # the runtime target (the last stage)
#   docker build --target binary -t credit-risk:binary .   # one self-contained executable instead;
#                                                          # deno compile downloads denort (dl.deno.land)
#
# The base images are build arguments, so a machine without Docker Hub can pass local stand-ins
# (tests/container/run_image.ts does: see the README's Docker section).
ARG DENO_VERSION=2.9.6
ARG DENO_IMAGE=denoland/deno:debian-${DENO_VERSION}
ARG RUNTIME_IMAGE=debian:bookworm-slim

# Every locked npm package, downloaded once: this layer is rebuilt only when deno.json or deno.lock change.
FROM ${DENO_IMAGE} AS deps
# Behind a TLS-intercepting proxy, the path of its CA bundle (PEM) inside the build, mounted there.
ARG DENO_CERT
ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
WORKDIR /app
COPY deno.json deno.lock ./
# Workspace members' configurations, which deno install reads with the root's.
COPY static/deno.json static/
RUN deno install --frozen

# The tree .dockerignore lets in. One without a production model trains one (seed 42, about 10 s).
FROM deps AS source
COPY . .
RUN grep -q '"stage": "production"' models/registry.json 2>/dev/null || deno task train --quiet

# node_modules cut down to what serve.ts and pipeline/ import (no test tools, no musl build of polars);
# /ship holds the rest of what the runtime gets: the app, and its TypeScript compiled once into the
# image's DENO_DIR, so that a start or a health check does not compile it again.
FROM source AS app
RUN deno run --allow-read=.,/tmp --allow-write=node_modules,/tmp --allow-run=deno \
      deploy/prune_node_modules.ts serve.ts pipeline \
 && DENO_DIR=/ship/deno-dir deno run --cached-only --node-modules-dir=manual --allow-read=. --allow-env \
      --allow-ffi=node_modules/.deno --allow-sys serve.ts --help >/dev/null \
 && mkdir -p /ship/app && cp -a deno.json deno.lock serve.ts pipeline static models data /ship/app/

# `--target binary`: deno task compile fetches denort, the runtime it embeds the app into.
FROM source AS compile
RUN deno task compile

FROM ${RUNTIME_IMAGE} AS binary
# The self-extracting binary unpacks beside itself on first start, so its folder belongs to its user.
RUN groupadd --gid 10001 credit \
 && useradd --uid 10001 --gid credit --create-home --home-dir /app --shell /usr/sbin/nologin credit \
 && install -d -o credit -g credit /app/data/audit
COPY --from=compile --chown=credit:credit --chmod=0755 /app/dist/credit-risk /app/credit-risk
USER credit
WORKDIR /app
ENV PORT=8000 LOG_LEVEL=info
EXPOSE 8000
VOLUME ["/app/data/audit"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["/app/credit-risk", "--healthcheck"]
ENTRYPOINT ["/app/credit-risk"]

# The default target. Everything is root's and read-only to the server's user but its audit trail.
FROM ${RUNTIME_IMAGE} AS runtime
RUN groupadd --gid 10001 credit \
 && useradd --uid 10001 --gid credit --no-create-home --home-dir /app --shell /usr/sbin/nologin credit \
 && install -d -o credit -g credit /app/data/audit
COPY --from=deps /usr/bin/deno /usr/bin/deno
WORKDIR /app
COPY --from=app /app/node_modules/ node_modules/
COPY --from=app /ship/ /
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 PORT=8000 LOG_LEVEL=info
USER credit
EXPOSE 8000
VOLUME ["/app/data/audit"]
# The serve task's flags, plus --cached-only and --node-modules-dir=manual (node_modules as cut down above).
# FFI only for polars' native addon (the serve task's list: whichever platform's package is installed).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--node-modules-dir=manual", "--allow-net=127.0.0.1", "--allow-env", \
       "--allow-read=.", "--allow-ffi=node_modules/.deno/nodejs-polars-linux-x64-gnu@0.25.2,node_modules/.deno/nodejs-polars-linux-x64-musl@0.25.2,node_modules/.deno/nodejs-polars-linux-arm64-gnu@0.25.2,node_modules/.deno/nodejs-polars-linux-arm64-musl@0.25.2,node_modules/.deno/nodejs-polars-darwin-x64@0.25.2,node_modules/.deno/nodejs-polars-darwin-arm64@0.25.2", \
       "--allow-sys", "serve.ts", "--healthcheck"]
ENTRYPOINT ["deno", "run", "--cached-only", "--node-modules-dir=manual", "--unstable-net", "--allow-net", \
            "--allow-read=.", "--allow-write=data/audit", "--allow-env", \
            "--allow-ffi=node_modules/.deno/nodejs-polars-linux-x64-gnu@0.25.2,node_modules/.deno/nodejs-polars-linux-x64-musl@0.25.2,node_modules/.deno/nodejs-polars-linux-arm64-gnu@0.25.2,node_modules/.deno/nodejs-polars-linux-arm64-musl@0.25.2,node_modules/.deno/nodejs-polars-darwin-x64@0.25.2,node_modules/.deno/nodejs-polars-darwin-arm64@0.25.2", \
            "--allow-sys", "serve.ts"]
