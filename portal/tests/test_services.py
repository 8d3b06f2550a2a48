"""The real services the portal uses in production: PostgreSQL and Redis."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.fixtures.services import require_service


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_is_postgresql_when_database_url_says_so():
    wants_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    require_service(wants_postgres, "PostgreSQL (DATABASE_URL)")
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.redis
def test_the_shared_cache_is_redis_when_redis_url_is_set():
    require_service(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("portal-test-key", {"n": 1}, 30)
    assert cache.get("portal-test-key") == {"n": 1}
    assert cache.incr("portal-test-counter", 1) if cache.add("portal-test-counter", 0) else True
