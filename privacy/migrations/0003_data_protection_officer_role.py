"""The "Data protection officer" staff role (UU PDP Pasal 53): reads the staff access log, the
consent records, erased accounts with the identities kept after them, the retention runs and the
audit trail. Nobody, this role included, can change any of them.

Permissions are created here first (as accounts/migrations/0003_staff_roles.py does) so that a
fresh database has the complete group straight after ``migrate``.
"""
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Data protection officer"
PERMISSIONS = [
    ("privacy", "view_staffaccesslog"), ("privacy", "view_consentevent"), ("privacy", "view_erasurerecord"),
    ("privacy", "view_retainedidentity"), ("privacy", "view_retentionrun"), ("audit", "view_auditentry"),
]


def create_role(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_staff_access_log_append_only"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_role, remove_role)]
