# syntax=docker/dockerfile:1.7
#
# API replica image, plus the `models` target that writes the model repository into a volume.
# Build context: the repository root, e.g.
#   docker build -f deploy/docker/api.Dockerfile -t tessera-api .
#   docker build -f deploy/docker/api.Dockerfile --target models -t tessera-models .
# api.Dockerfile.dockerignore beside this file keeps the context small (BuildKit reads the
# <Dockerfile>.dockerignore next to the Dockerfile in preference to a root .dockerignore).

# Base images are pinned by digest, so a rebuild gets the same bytes. To move to a newer Node 22
# LTS release, read the current digest of the tag and replace it here (and in the other
# Dockerfile), then rebuild and run the tests:
#   docker buildx imagetools inspect node:22-bookworm-slim --format '{{json .Manifest.Digest}}'
# npm test checks that every base image carries a digest (apps/e2e/src/compose.test.ts).
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c
ARG PNPM_VERSION=12.4.2

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION
# The API does not run ONNX Runtime; never fetch the CUDA provider here.
ENV CI=true \
    ONNXRUNTIME_NODE_INSTALL=skip \
    TURBO_TELEMETRY_DISABLED=1 \
    npm_config_update_notifier=false
RUN npm install -g pnpm@${PNPM_VERSION} && pnpm --version
WORKDIR /src
# Dependencies first: this layer only changes with the lockfile.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=tessera-pnpm-store,target=/pnpm/store \
    pnpm fetch --store-dir /pnpm/store
COPY . .
RUN --mount=type=cache,id=tessera-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --store-dir /pnpm/store
RUN pnpm exec turbo run build --filter=@tessera/api... --filter=@tessera/model-zoo...
# Self-contained production trees: the package, its built workspace dependencies and only
# their production dependencies.
RUN --mount=type=cache,id=tessera-pnpm-store,target=/pnpm/store \
    pnpm --filter=@tessera/api --prod deploy --store-dir /pnpm/store /out/api \
 && pnpm --filter=@tessera/model-zoo --prod deploy --store-dir /pnpm/store /out/models \
 && rm -rf /out/*/src /out/*/.turbo /out/*/tsconfig.json

# ---------------------------------------------------------------------------------------------
# One-shot: generates the model repository (test and demo models) into /models, idempotently.
FROM ${NODE_IMAGE} AS models
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /out/models ./
RUN mkdir -p /models && chown node:node /models
# The image's `node` user, numerically, so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
VOLUME ["/models"]
ENTRYPOINT ["node", "dist/cli.js"]
# Production models only; `--only all` adds the test and demo-only models (affine, memory-hog,
# cost, gather, …), which must never be deployed.
CMD ["/models", "--only", "demo"]

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS api
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    MODEL_REPOSITORY=/models \
    MALLOC_MMAP_THRESHOLD_=65536
WORKDIR /app
COPY --from=build --chown=node:node /out/api ./
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: stop accepting, finish in-flight requests (SHUTDOWN_GRACE_MS), exit 0.
STOPSIGNAL SIGTERM
# V8 flags as packages/topology/src/apps.ts API_NODE_FLAGS: a heap that grows 15 % per collection,
# with 8 MB semi-spaces, keeps a replica under 150 MB under load instead of 200 (not a hard limit).
CMD ["node", "--heap-growing-percent=15", "--max-semi-space-size=8", "dist/main.js"]
