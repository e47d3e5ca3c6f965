"""PostgreSQL for the test suite, with a fast reset between transactional tests.

Transactional tests (live_server, threads, real workers) cannot roll back: Django empties every
table when one ends (``flush``) and, with serialized rollback (tests/conftest.py), reloads the rows
the data migrations wrote (fee schedule, groups, permissions) when the next one starts. Django's
own way costs seconds per test: one ``TRUNCATE`` of every table (PostgreSQL creates and syncs a new
file per table) and the reload saves each serialized row one by one through the ORM.

This backend does the same two steps in a few statements:

* **the snapshot**: when the test database has been migrated, the tables that hold rows are copied
  once into the ``test_seed`` schema (instead of serializing them to JSON);
* **flush**: ``DELETE`` from every table with ``session_replication_role = replica`` for the
  transaction, so foreign-key order does not matter and the ledger's immutability triggers (which
  refuse a DELETE of a posted entry in the product) do not fire, exactly as ``TRUNCATE`` fires none;
* **reload**: empty the seeded tables and copy their rows back from the snapshot.

It is the product's backend (``intrasa.postgresql``: the health check without a round trip) with
those two steps. The result is the state Django's way gives, row for row; ``session_replication_role`` needs a
superuser, which the suite's ``postgres`` user is (README, "Tests"). Nothing here is used outside
the test settings.
"""
import json

from django.db import transaction
from django.db.backends.postgresql import creation, operations

from intrasa.postgresql import base

SEED_SCHEMA = "test_seed"
WITHOUT_TRIGGERS = "SET LOCAL session_replication_role = replica"


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences:  # RESTART IDENTITY: rare, Django's TRUNCATE does it
            return super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [WITHOUT_TRIGGERS, *(f"DELETE FROM {self.quote_name(table)}" for table in tables)]


class DatabaseCreation(creation.DatabaseCreation):
    def serialize_db_to_string(self):
        """Copy every table that holds rows after the migrations into ``test_seed``; the 'serialized
        contents' Django keeps is the list of those tables."""
        quote = self.connection.ops.quote_name
        seeded = []
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SEED_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {SEED_SCHEMA}")
            for table in sorted(self.connection.introspection.django_table_names(only_existing=True,
                                                                                include_views=False)):
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")
                if cursor.fetchone()[0]:
                    cursor.execute(f"CREATE TABLE {SEED_SCHEMA}.{quote(table)} AS TABLE {quote(table)}")
                    seeded.append(table)
        return json.dumps(seeded)

    def deserialize_db_from_string(self, data):
        quote = self.connection.ops.quote_name
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute(WITHOUT_TRIGGERS)
            for table in json.loads(data):
                cursor.execute(f"DELETE FROM {quote(table)}")
                cursor.execute(f"INSERT INTO {quote(table)} TABLE {SEED_SCHEMA}.{quote(table)}")


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    ops_class = DatabaseOperations
