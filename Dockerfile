# Berth's container image: one process as an unprivileged user, its data in a volume. Built from a checkout after
# `npm ci` (the Node.js binary and the dependencies come from node_modules/, so the build reaches no registry):
#   docker build --build-arg BASE=debian:bookworm-slim -t berth .
#   docker run -d -p 5000:5000 -v berth-data:/var/lib/berth berth
# BASE is any glibc-based Linux image (CI builds a Debian bookworm minbase with debootstrap and `docker import`).
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
WORKDIR /opt/berth
COPY . .
# The pinned Node.js (the `node` package's binary) moves out of node_modules/; dist/ is compiled (faster start,
# less memory than running the TypeScript sources); what only development needs is dropped. The sources stay:
# bin/berth.js checks that dist/ is as new as them.
RUN mv node_modules/node/bin/node /usr/local/bin/node \
 && node scripts/build.js && node scripts/prune-dev-modules.js && rm scripts/prune-dev-modules.js

FROM ${BASE}
# A system user with no login shell; the data directory is its own (0700), and a volume.
RUN groupadd --system --gid 10001 berth \
 && useradd --system --uid 10001 --gid berth --home-dir /var/lib/berth --no-create-home --shell /usr/sbin/nologin berth \
 && mkdir -p /var/lib/berth && chown berth:berth /var/lib/berth && chmod 0700 /var/lib/berth
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /opt/berth /opt/berth
ENV BERTH_DATA_DIR=/var/lib/berth \
    BERTH_LISTEN=0.0.0.0:5000 \
    NODE_ENV=production
VOLUME ["/var/lib/berth"]
USER berth:berth
WORKDIR /var/lib/berth
EXPOSE 5000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node", "/opt/berth/bin/berth.js"]
CMD ["serve"]
