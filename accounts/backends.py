"""How a logged-in request finds its person: Django's ``ModelBackend``, with the one read every
logged-in request makes (the user by the id in the session) compiled once per process.

Django builds and compiles ``User.objects.get(pk=…)`` on every request: 0.7 ms of Python on the
benchmark's machine, more than the database spends answering it (``benchmarks/flames.py --only
logged-in``). ``intrasa.prepared.Prepared`` keeps the compiled statement and turns the row into a
``User`` exactly as the ORM does, so every logged-in page pays only the round trip. Everything
else is ``ModelBackend``'s: password check, permissions, and who may log in at all
(``user_can_authenticate``: an inactive account is logged out on its next request, as before).
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from intrasa.prepared import Prepared

# The session keeps this path (``BACKEND_SESSION_KEY``); a login names it (``accounts.views``).
BACKEND_PATH = "accounts.backends.UserBackend"

_USER_BY_ID = Prepared(lambda *, pk: get_user_model()._default_manager.filter(pk=pk), pk=int)


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        try:  # what ModelBackend's ``get(pk=user_id)`` would accept: the id, or its text
            pk = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        if type(pk) is not int or not 0 < pk < 2**63:  # no row has it (the ORM compiles such a value away)
            return None
        found = _USER_BY_ID.rows(pk=pk)
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
