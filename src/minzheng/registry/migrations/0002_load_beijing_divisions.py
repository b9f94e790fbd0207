from django.db import migrations


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    from minzheng.registry.divisions import beijing_divisions, load_divisions

    load_divisions(apps.get_model("registry", "Division"), beijing_divisions())


def name_prefix_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Prefix search (LIKE 'x%') needs a pattern-ops index on PostgreSQL with a non-C collation.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS person_name_prefix_idx "
            "ON registry_person (name varchar_pattern_ops) INCLUDE (household_id)"
        )


def drop_name_prefix_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS person_name_prefix_idx")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(name_prefix_index, drop_name_prefix_index),
    ]
