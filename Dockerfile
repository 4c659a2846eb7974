# The application image: workers, scheduler, API and the one-shot storage-init all run it.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY actors ./actors
COPY middleware ./middleware
RUN pip install --no-cache-dir ".[postgres]" \
    && useradd --uid 10001 --user-group --home-dir /app --no-create-home app \
    && mkdir -p /app/var \
    && chown app:app /app/var
ENV PYTHONUNBUFFERED=1
# Never root at run time: nothing the processes do needs it.
USER 10001:10001
CMD ["dramatiq", "pipeline.actors", "--processes", "2", "--threads", "8"]
