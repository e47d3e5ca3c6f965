"""Store every email address in its canonical form (accounts.validators.canonical_email: NFKC,
lower case), the form login, rate limits and invitations compare.

An address whose canonical form already belongs to another account is left as it was and
reported: merging two accounts is a decision for staff, not for a migration (such an account
cannot log in anyway, because login finds the other one). The reverse does nothing: the original
spellings are not kept, and the canonical form is a valid address for the same mailbox.
"""
import unicodedata

from django.db import migrations


def _canonical(email: str) -> str:
    # A copy of accounts.validators.canonical_email as of this migration (migrations do not
    # import code that may change later).
    return unicodedata.normalize("NFKC", email or "").strip().lower()


def canonicalise_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.only("pk", "email").iterator():
        canonical = _canonical(user.email)
        if canonical == user.email:
            continue
        if User.objects.filter(email__iexact=canonical).exclude(pk=user.pk).exists():
            print(f"\n  accounts.0005: user {user.pk} keeps its address: its canonical form belongs "
                  f"to another account")
            continue
        User.objects.filter(pk=user.pk).update(email=canonical)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_identity_text_validators")]

    operations = [migrations.RunPython(canonicalise_emails, migrations.RunPython.noop)]
