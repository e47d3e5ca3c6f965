"""Django's own sentences that INTRASA words better in Bahasa Indonesia.

Django's Indonesian catalogue writes "Sandi anda tidak dapat berupa sandi umum digunakan" for the
password rules shown on the sign-up and password forms. INTRASA's catalogue (LOCALE_PATHS) comes
before Django's, so the same msgids translated there win. They are listed here, marked for
translation but not translated at import, so that ``makemessages`` keeps them in the catalogue.
"""
from django.utils.translation import gettext_noop

DJANGO_PASSWORD_HELP = (
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
)
