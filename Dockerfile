# syntax=docker/dockerfile:1
# stack-operator container image: `stack-operator run` (the operator) only. `dev` and `emulator`
# need the repository checkout (crds/, config/, src/devenv/build-k8s.sh) and are not part of the image.
#
#   docker build -t stack-operator:dev .
#
# Stages: deps (production node_modules) -> build (tsc -> dist/) -> runtime (node + dist + deps).
#
# Base image: pinned by digest (the multi-platform index of node:24-bookworm-slim, Node 24.19.0;
# where the digest comes from and how to move it: docs/install.md "The container image"). A tag alone
# would let a rebuild pick up a different base without a change in this repository.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df

# Production dependencies only, without install scripts (none of them needs one).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Compile src/ to dist/ with the dev toolchain (typescript). The `node` devDependency's install
# script fetches Node 24 for npm scripts, so scripts are not skipped here.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="stack-operator" \
      org.opencontainers.image.description="Kubernetes operator for cloud orchestration stacks (Heat/RTS, RFS, ROS, Cloud Foundry)" \
      org.opencontainers.image.source="https://github.com/stack-operator/stack-operator" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Non-root, numeric (so runAsNonRoot can verify it), no home needed; the chart and config/manager
# run with the same UID and a read-only root filesystem.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
