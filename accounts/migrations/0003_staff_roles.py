"""Staff roles as Django groups, each with exactly the permissions its work needs.

* Customer service: read transactions, disputes and refunds; write messages in a dispute.
* Dispute officer: what customer service can, plus resolve disputes (release, refund, split:
  ``transactions.resolve_dispute``) and record refund documents (inspection result, RMA number).
* Finance: approve refunds (``refunds.approve_refund``) and payouts (``disbursements.change_disbursement``),
  import bank statements (``payments.add_bankstatementline``), and read what they approve.

Permissions are normally created after migrations (post_migrate); they are created here first so
that a fresh database has complete groups straight after ``migrate``.
"""
from django.contrib.auth.management import create_permissions
from django.db import migrations

READ = [
    ("transactions", "view_escrowtransaction"), ("transactions", "view_transactionevent"),
    ("disputes", "view_dispute"), ("disputes", "view_disputemessage"), ("disputes", "view_evidence"),
    ("disputes", "view_settlementoffer"),
    ("refunds", "view_refundrequest"), ("refunds", "view_refunddocument"),
]
ROLES = {
    "Customer service": READ + [("disputes", "add_disputemessage")],
    "Dispute officer": READ + [
        ("disputes", "add_disputemessage"), ("disputes", "change_dispute"), ("disputes", "add_evidence"),
        ("transactions", "resolve_dispute"), ("refunds", "add_refunddocument"),
    ],
    "Finance": READ + [
        ("refunds", "approve_refund"), ("refunds", "change_refundrequest"), ("refunds", "add_refunddocument"),
        ("disbursements", "view_payout"), ("disbursements", "view_disbursement"),
        ("disbursements", "change_disbursement"),
        ("payments", "view_bill"), ("payments", "view_bankstatementline"), ("payments", "add_bankstatementline"),
    ],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_email_verification"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("transactions", "0002_default_fee_schedule"),
        ("disputes", "0001_initial"),
        ("refunds", "0001_initial"),
        ("disbursements", "0001_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
