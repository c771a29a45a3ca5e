# The stampede image: what `stampede k8s` runs in each shard.
#   make image                       # docker build -t stampede:$(VERSION) .
#   docker run --rm stampede:dev version
#
# The runtime is Alpine rather than distroless because the pods need a
# shell and tar: the shard wrapper passes SIGTERM on to stampede, and
# `kubectl cp` copies run directories out with tar over exec.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
ARG DATE=unknown
# The Makefile's -ldflags, with the stamp passed in (.git stays out of the context).
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/stampede ./cmd/stampede

FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -S -g 65532 stampede \
 && adduser -S -D -u 65532 -G stampede -h /work stampede
COPY --from=build /out/stampede /usr/local/bin/stampede
# 65532 is the user the manifests of `stampede k8s` run as (runAsUser, fsGroup).
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["stampede"]
CMD ["--help"]
