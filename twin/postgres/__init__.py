"""The PostgreSQL + PostGIS backend: static layers and live tables in one database, named by DATABASE_URL.

`PostgresStore` implements twin.store.Storage (read a layer, its version, open the live tables); the live tables are
`PostgresLiveStore` (twin.store.LiveStore). Connections come from one psycopg pool per process.
"""

from __future__ import annotations

from .static import PostgresStore

__all__ = ["PostgresStore"]
