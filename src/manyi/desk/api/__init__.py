"""The REST API (django-ninja): token and session authentication, idempotency keys, one JSON
error shape, and the inbound webhooks. Each app brings its own router (``cases/api.py``);
``site.py`` assembles them."""
