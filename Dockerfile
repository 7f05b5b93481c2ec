# syntax=docker/dockerfile:1

# Build stage: static binaries for the gateway, the sandbox partners server and the ops CLI.
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/ \
        ./cmd/gateway ./cmd/partnersim ./cmd/gatewayctl

# Runtime stage: Debian slim rather than distroless so that the compose healthchecks can use
# curl; tzdata for Asia/Ho_Chi_Minh; a fixed non-root user.
FROM debian:trixie-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin gateway
COPY --from=build /out/ /usr/local/bin/
# Config profiles (production.yaml among them) land in /etc/gateway/; secrets never do: the
# production profile reads them from the environment or from *_FILE secret files.
COPY configs/ /etc/gateway/
USER 10001:10001
# 8080 API listener, 9090 admin listener, 8081 partnersim.
EXPOSE 8080 9090 8081
# With no flags the gateway runs the dev profile (embedded store, sandbox partners);
# docker-compose.yml runs the production profile instead.
CMD ["gateway"]
