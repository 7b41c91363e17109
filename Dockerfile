# syntax=docker/dockerfile:1
# Haven's container image (control D2): built in one stage, run from another that holds only the
# compiled server, the built web app and the production dependencies.
#
# Base image. Pinned by exact tag; the digest is not written here because it was not looked up
# when this file was written, and a made-up digest would make every build fail. To pin the digest
# too, append what `docker buildx imagetools inspect node:20.20-bookworm-slim` prints as its
# `Digest:` (FROM node:20.20-bookworm-slim@sha256:<64 hex>) to both FROM lines. Dependabot's
# `docker` ecosystem (.github/dependabot.yml) then proposes each newer tag, with its digest when
# one is pinned, as a weekly pull request that .github/workflows/ci.yml builds and lints.

# ── build: every dependency, then `npm run build` (web app and server) ──────────────────────────
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json .npmrc ./
COPY server/package.json server/package.json
COPY web/package.json web/package.json
# Install scripts stay off except for the two packages the root package.json allows (allowScripts):
# argon2 picks its prebuilt binary, esbuild checks its own. The root `prepare` script would build
# before the sources are copied, so the build runs below instead.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild argon2 esbuild
COPY tsconfig.base.json ./
COPY server server
COPY web web
RUN npm run build

# ── deps: production dependencies only ──────────────────────────────────────────────────────────
FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY server/package.json server/package.json
COPY web/package.json web/package.json
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild argon2 \
 && npm cache clean --force

# ── runtime ─────────────────────────────────────────────────────────────────────────────────────
FROM node:20.20-bookworm-slim AS runtime
# Production rules apply (Haven refuses a missing or weak setting); listen on every interface of
# the container; the data folder is the one writable path Haven itself needs (see VOLUME).
ENV NODE_ENV=production \
    HAVEN_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    HAVEN_DATA_DIR=/var/lib/haven
# glibc's allocator keeps and reuses the buffers of uploads, downloads and scans instead of
# handing them back to the kernel after every burst (server/src/platform/allocator.ts says why;
# in a virtual machine each page faulted in again costs a hypervisor exit).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728
WORKDIR /app
# The package managers are not needed to run Haven; removing them removes their dependencies
# from what an image scanner has to judge and from what an intruder could use.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && mkdir -p /var/lib/haven \
 && chown 10001:10001 /var/lib/haven \
 && chmod 0700 /var/lib/haven
# Everything under /app belongs to root and is read-only to the service user: the image's code
# cannot be changed by the process that runs it, with or without a read-only root filesystem.
COPY --from=deps /app /app
COPY --from=build /app/server/dist /app/server/dist
COPY --from=build /app/web/dist /app/web/dist
COPY server/bin /app/server/bin
# Writable paths: /var/lib/haven (audit anchors `audit-anchors.jsonl`, written by the process that
# runs jobs; the embedded database, files and mailbox only when DATABASE_URL, HAVEN_STORAGE_URL and
# HAVEN_SMTP_URL are unset, which production forbids) and /tmp (mount a tmpfs). Run with
# `--read-only --tmpfs /tmp` (compose.yaml: read_only: true, tmpfs: /tmp).
VOLUME ["/var/lib/haven"]
USER 10001:10001
EXPOSE 8080
# /readyz checks PostgreSQL and Redis; plain HTTP on the loopback is answered, not redirected
# (platform/http/https-only.ts keeps the probes reachable). The slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `npx haven <command>`: server/bin/haven.js runs the compiled CLI (server/dist/main.js).
ENTRYPOINT ["node", "/app/server/bin/haven.js"]
CMD ["serve"]
