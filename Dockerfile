# govcred: the `govcred` binary (issuer, status service, CLI) in a small runtime image.
# Not built in CI. Build: docker build -t govcred .
# Run:   docker run -p 8080:8080 -v /srv/issuer:/config:ro govcred \
#            serve --config /config/issuer.toml --listen 0.0.0.0:8080 --log-format json
# See "Deployment" in README.md (database, N instances, keys, publishing).

# --- build: a release build of govcred-cli (aws-lc-sys builds its C code with cmake + clang) ---
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p govcred-cli \
 && install -m 0755 target/release/govcred /usr/local/bin/govcred

# --- runtime: Debian slim, CA certificates, a non-root user ---
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/govcred --create-home govcred
COPY --from=build /usr/local/bin/govcred /usr/local/bin/govcred
USER govcred
WORKDIR /var/lib/govcred
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/govcred"]
CMD ["--help"]
