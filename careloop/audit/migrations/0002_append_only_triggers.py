from django.db import migrations


def forwards(apps, schema_editor):
    from careloop.audit import triggers

    triggers.create(schema_editor.connection)


def backwards(apps, schema_editor):
    from careloop.audit import triggers

    triggers.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
