# lagscope: the probe, the shop and its downstream, Locust (one image, several services).
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir /app && useradd --create-home --uid 1000 lagscope
USER lagscope
