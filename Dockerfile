# The service image, for machines with a registry:
#   docker build -t leadr-identity .
# A static binary on scratch, running as a non-root user. On a machine that
# cannot pull, scripts/test-images.sh builds the same runtime image from
# build/service/Dockerfile.local with a binary built on the host; the two
# runtime stages must stay identical (build/service/dockerfile_test.go).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/leadr ./cmd/leadr \
 && cp /etc/ssl/certs/ca-certificates.crt /out/ca-certificates.crt \
 && mkdir /out/home

FROM scratch
LABEL org.leadr.image=identity
COPY --from=build /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/leadr /leadr
# A folder the service's user owns: with no LEADR_DATABASE_URL the service
# keeps its SQLite file in ./data below it (mount a volume there to keep it).
COPY --from=build --chown=65532:65532 /out/home /var/lib/leadr
WORKDIR /var/lib/leadr
USER 65532:65532
EXPOSE 8080
ENV LEADR_HTTP_ADDR=:8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 CMD ["/leadr", "healthcheck"]
ENTRYPOINT ["/leadr"]
CMD ["serve"]
