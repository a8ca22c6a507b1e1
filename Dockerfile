# The container image of examples/server: Sparrow's standalone service on
# scratch, with nothing in it but the static binary, the CA certificates its
# deliveries verify TLS with, and a non-root user.
#
# Build it with `make image` (IMAGE=sparrow:dev by default), which compiles
# the binary (CGO_ENABLED=0) and prepares build/image, this file's context,
# then runs `docker build` (or `podman build`) on it. Run it with at least
# DATABASE_URL set; README.md lists the other variables.
FROM scratch

COPY passwd group /etc/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY sparrow-server /usr/local/bin/sparrow-server

USER 65532:65532

# The API (Connect, gRPC-Web, gRPC, REST, the dashboard at /ui/, /health,
# /ready), gRPC, and River's UI (set RIVER_UI_BIND=0.0.0.0 to reach it from
# outside the container).
EXPOSE 8080 50051 8082

HEALTHCHECK --interval=10s --timeout=5s --start-period=20s \
    CMD ["/usr/local/bin/sparrow-server", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/sparrow-server"]
