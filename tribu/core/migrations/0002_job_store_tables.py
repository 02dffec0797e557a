"""Create the PostgreSQL job-store tables with the migrations rather than at import time, so
that no process connects to the database merely by loading the settings."""

from django.db import migrations
from huey.storage import PostgresStorage


def create_job_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    storage = PostgresStorage("tribu", create_tables=False)
    with schema_editor.connection.cursor() as cursor:
        for statement in storage.ddl:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_job_tables, migrations.RunPython.noop)]
