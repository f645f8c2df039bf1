"""Full-text search over messages on PostgreSQL: a GIN expression index on the `simple` text-search vector of
`Message.text`, the very expression `inbox.together_selectors.search` filters on (Django's SearchVector wraps
the column in COALESCE, so the index does too). SQLite has no such index; search falls back to a plain
containment test there."""

from django.db import migrations

INDEX = "message_text_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON inbox_message "
            "USING gin (to_tsvector('simple'::regconfig, COALESCE(text, '')))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0005_teamwork")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
