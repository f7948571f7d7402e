FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libcurl4-openssl-dev libssl-dev gcc \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . && python manage.py collectstatic --noinput
ENV PORTAL_VAR_DIR=/tmp/portal
EXPOSE 8000
