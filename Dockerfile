# creditwatch: a static binary on a distroless base, running as a non-root user.
# The binary is built by scripts/build.sh, the same script the tests build with.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN bash scripts/build.sh /out/creditwatch && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/creditwatch /usr/local/bin/creditwatch
COPY --from=build --chown=65532:65532 /out/data /var/lib/creditwatch
USER 65532:65532
VOLUME /var/lib/creditwatch
EXPOSE 9797
ENTRYPOINT ["/usr/local/bin/creditwatch"]
CMD ["serve", "--config.file=/etc/creditwatch/creditwatch.yml", "--storage.path=/var/lib/creditwatch/creditwatch.db", "--log.format=json"]
