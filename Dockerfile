FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY actors ./actors
COPY middleware ./middleware
RUN pip install --no-cache-dir ".[postgres]"
ENV PYTHONUNBUFFERED=1
CMD ["dramatiq", "pipeline.actors", "--processes", "2", "--threads", "8"]
