# One image for every Python service of the platform; docker-compose.yml picks the command.
# Nothing secret is baked in: configuration comes from the environment at run time.
# Two stages: uv installs the locked packages and the project (not editable: its data files travel inside the
# package) into /opt/venv; the final image has that environment only, without uv, its cache or the sources.

FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
# Dependencies first, from the lock file, so that a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache
COPY . .
RUN uv sync --frozen --no-dev --no-editable --no-cache

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN useradd --create-home --uid 10001 app
COPY --from=build /opt/venv /opt/venv
WORKDIR /home/app
USER app
CMD ["payments", "--help"]
