# syntax=docker/dockerfile:1.7
#
# Worker image: one container per GPU, ONNX Runtime with the CUDA execution provider (and the
# CPU provider as fallback). Build context: the repository root, e.g.
#   docker build -f deploy/docker/worker.Dockerfile -t tessera-worker .
#
# Which CUDA: onnxruntime-node 1.29.0 ships only the CPU provider in its npm package; its
# install script (script/install.js, install-metadata.js) fetches the CUDA provider from the
# NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux 1.29.0, the `cuda12` flavour, the only
# one for linux/x64 (CUDA 11 is refused). That build links against CUDA 12 and cuDNN 9, so the
# runtime base is NVIDIA's CUDA 12 + cuDNN 9 runtime image. To check after a change of version:
#   docker run --rm --entrypoint sh tessera-worker -c \
#     'readelf -d node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so | grep NEEDED'
# and expect libcudart.so.12, libcublas.so.12 / libcublasLt.so.12, libcufft.so.11,
# libcurand.so.10 and libcudnn.so.9, all of which the base image provides; `ldd` on the same
# file inside the image must report no "not found".

# Base images are pinned by digest, so a rebuild gets the same bytes. To move to a newer Node 22
# LTS release, read the current digest of the tag and replace it here (and in the other
# Dockerfile), then rebuild and run the tests:
#   docker buildx imagetools inspect node:22-bookworm-slim --format '{{json .Manifest.Digest}}'
# npm test checks that every base image carries a digest (apps/e2e/src/compose.test.ts).
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c
ARG PNPM_VERSION=12.4.2
# Same for the CUDA runtime: docker buildx imagetools inspect nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04@sha256:59e0e4376a0f16d10b03d3a14344b80a866a1674cb4948cb318291387ac05010

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION
ENV CI=true \
    ONNXRUNTIME_NODE_INSTALL=skip \
    TURBO_TELEMETRY_DISABLED=1 \
    npm_config_update_notifier=false
RUN npm install -g pnpm@${PNPM_VERSION} && pnpm --version
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=tessera-pnpm-store,target=/pnpm/store \
    pnpm fetch --store-dir /pnpm/store
COPY . .
RUN --mount=type=cache,id=tessera-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --store-dir /pnpm/store
RUN pnpm exec turbo run build --filter=@tessera/worker...
RUN --mount=type=cache,id=tessera-pnpm-store,target=/pnpm/store \
    pnpm --filter=@tessera/worker --prod deploy --store-dir /pnpm/store /out/worker \
 && rm -rf /out/*/src /out/*/.turbo /out/*/tsconfig.json
# Opt in to the CUDA provider for this image only: run onnxruntime-node's own install step with
# ONNXRUNTIME_NODE_INSTALL=cuda12, which downloads libonnxruntime_providers_{cuda,shared,
# tensorrt}.so next to the CPU build, and fail the build if the CUDA provider is not there.
RUN cd /out/worker/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js \
 && test -s bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
 && test -s bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS node

# ---------------------------------------------------------------------------------------------
FROM ${CUDA_IMAGE} AS worker
# Node 22 from the official image (a glibc build that runs on Ubuntu 22.04 as it is).
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN groupadd --system --gid 10001 tessera \
 && useradd --system --uid 10001 --gid tessera --home-dir /app --shell /usr/sbin/nologin tessera
ENV NODE_ENV=production \
    DEVICE=cuda \
    CUDA_DEVICE_ID=0 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9100 \
    MODEL_REPOSITORY=/models \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=build --chown=tessera:tessera /out/worker ./
# The build fails here when the CUDA provider needs a library this base image lacks (a CUDA or
# cuDNN major version that moved): better than a worker that silently falls back to the CPU.
RUN set -e; \
    lib=$(echo node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so); \
    test -s "$lib"; \
    missing=$(ldd "$lib" | grep "not found" || true); \
    if [ -n "$missing" ]; then echo "the CUDA provider cannot load; missing libraries:"; echo "$missing"; exit 1; fi
USER 10001:10001
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9100)+'/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: finish the batch in flight, then exit 0 (give it SHUTDOWN_GRACE_MS + a margin).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
