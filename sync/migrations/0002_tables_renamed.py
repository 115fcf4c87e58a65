# The moved tables take the sync app's names, and the admin's content types (permissions, admin
# log entries) follow the models to their new app.

from django.db import migrations

MODELS = ("syncconnection", "syncrun")


def content_types_move(old_label: str, new_label: str):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in MODELS:
            if not ContentType.objects.filter(app_label=new_label, model=model).exists():
                ContentType.objects.filter(app_label=old_label, model=model).update(app_label=new_label)

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sync", "0001_initial"),
        ("providers", "0006_sync_models_moved_to_sync_app"),
    ]

    operations = [
        migrations.AlterModelTable(name="syncconnection", table=None),
        migrations.AlterModelTable(name="syncrun", table=None),
        migrations.RunPython(content_types_move("providers", "sync"), content_types_move("sync", "providers")),
    ]
