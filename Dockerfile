# INTRASA production image: gunicorn for web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core \
      fonts-dejavu-core gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install . \
 && DJANGO_SETTINGS_MODULE=intrasa.settings.base python manage.py compilemessages --ignore=.venv -v0 \
 && SECRET_KEY=build-only DJANGO_SETTINGS_MODULE=intrasa.settings.production python manage.py collectstatic --noinput -v0 \
 && useradd --system --home /app intrasa && mkdir -p /app/var && chown -R intrasa /app/var

USER intrasa
EXPOSE 8000
CMD ["gunicorn", "intrasa.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
