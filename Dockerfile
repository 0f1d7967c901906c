# laborhub: the GraphQL server image.
#   docker build -t laborhub .
#   docker run --rm -e DATABASE_URL=postgresql://... -e LABORHUB_SECRET_KEY=... laborhub migrate
#   docker run -p 8000:8000 -e DATABASE_URL=... -e LABORHUB_SECRET_KEY=... laborhub
# The image never starts a database: DATABASE_URL is required, and migrations are a separate
# step (`migrate`, above) run before the new version serves.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schema/ schema/
COPY resolvers/ resolvers/
COPY db/ db/
COPY server/ server/
COPY bench/ bench/
# A regular (not editable) install: the packages, their data files (SDL, reference CSVs,
# migrations) and the `laborhub` script all end up inside /opt/venv.
RUN pip install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group laborhub
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LABORHUB_ENV=production \
    LABORHUB_HOME=/home/laborhub/.laborhub
USER laborhub
WORKDIR /home/laborhub
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["laborhub"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-seed"]
