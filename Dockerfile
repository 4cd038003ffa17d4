# syntax=docker/dockerfile:1
# Dragon server image: Node 24 slim + Debian's FFmpeg, running as an unprivileged user.

FROM node:24-bookworm-slim AS build
WORKDIR /src
# g++ builds the native fan-out (packages/webrtc/native) against the image's Node headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ \
 && rm -rf /var/lib/apt/lists/* \
 && corepack enable
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml turbo.json tsconfig.base.json ./
COPY packages ./packages
COPY apps ./apps
RUN pnpm install --frozen-lockfile \
 && pnpm --filter @dragon/core... build \
 && pnpm --filter @dragon/core deploy --prod --legacy /out

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin dragon \
 && mkdir -p /data && chown dragon:dragon /data
COPY --from=build /out /app
USER dragon
ENV CORE_ADDRESS=:8080 \
    CORE_DB_DIR=/data \
    CORE_STORAGE_DISK_DIR=/data/disk \
    CORE_WEBRTC_UDP_MUX_PORT=8189 \
    CORE_WEBRTC_TCP_MUX_PORT=8189 \
    NODE_ENV=production
VOLUME ["/data"]
# HTTP (API, WHEP, player); every viewer's ICE/DTLS/SRTP on one UDP port; ICE-TCP fallback.
EXPOSE 8080/tcp 8189/udp 8189/tcp
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/ping').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini forwards SIGTERM so the server stops FFmpeg and closes viewers cleanly.
ENTRYPOINT ["tini", "--", "node", "/app/dist/main.js"]
