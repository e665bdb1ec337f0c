# shipshape in a container: built against musl in a Rust Alpine stage, run from plain Alpine
# as an unprivileged user. Mount the repository to check at /src:
#
#   docker build -t shipshape .
#   docker run --rm -v "$PWD:/src:ro" shipshape check .
#
# Base images are pinned to exact version tags (add their digests, `@sha256:...`, where the
# build can look them up).

FROM rust:1.95.0-alpine3.23 AS build
# psm (a dependency of the shell parser) compiles C: gcc and the musl headers.
RUN apk add --no-cache gcc musl-dev
WORKDIR /build
COPY Cargo.toml Cargo.lock build.rs ./
COPY benches ./benches
COPY policies ./policies
COPY src ./src
RUN cargo install --locked --path . --root /out

FROM alpine:3.23.4
RUN addgroup -S shipshape && adduser -S -G shipshape -H -s /sbin/nologin shipshape
COPY --from=build /out/bin/shipshape /usr/local/bin/shipshape
USER shipshape
WORKDIR /src
ENTRYPOINT ["shipshape"]
CMD ["check", "."]
