"""Finding every model that holds personal data, so that none is left out of a person's archive.

A model holds personal data when it points at a user (a foreign key, one-to-one or many-to-many to
``AUTH_USER_MODEL``), or has a field whose type or name marks personal data: an email, IP address
or file field, or a name containing ``email``, ``phone``, ``name``, ``account_number``,
``address``, ``holder``, ``ip`` or ``user_agent``. The test suite asks ``undeclared_personal_models``
for the models that are neither exported (``privacy.export.sections()``: the core sections and
those apps above privacy register from their ``AppConfig.ready()``) nor explained
(``privacy.export.NOT_EXPORTED``); adding a model with personal fields makes it fail until the model
is declared in one of them.
"""
import re

from django.apps import apps
from django.conf import settings
from django.db import models

from .export import NOT_EXPORTED, sections

PERSONAL_NAME = re.compile(r"(^|_)(e?mail|email|phone|msisdn|name|account_number|account_no|address|holder|ip|"
                           r"ip_address|user_agent)($|_)")
PERSONAL_TYPES = (models.EmailField, models.GenericIPAddressField, models.FileField)


def _points_at_user(field) -> bool:
    if not field.is_relation or field.related_model is None or not field.concrete:
        return False
    target = field.related_model
    # A lazy reference ("accounts.User") until the app registry resolves it.
    label = target.lower() if isinstance(target, str) else target._meta.label_lower
    return label == settings.AUTH_USER_MODEL.lower()


def personal_fields(model) -> list[str]:
    """The names of ``model``'s fields that hold, or point at, personal data."""
    found = []
    for field in model._meta.get_fields():
        if getattr(field, "auto_created", False) and not field.concrete:
            continue  # reverse relations belong to the model that declares them
        if _points_at_user(field) or isinstance(field, PERSONAL_TYPES) or PERSONAL_NAME.search(field.name):
            found.append(field.name)
    return found


def declared_models() -> set[str]:
    exported = {label for section in sections() for label in section.models}
    return exported | set(NOT_EXPORTED)


def undeclared_personal_models(candidates=None) -> dict[str, list[str]]:
    """Models with personal fields that are neither exported nor explained: ``{label: [fields]}``."""
    declared = declared_models()
    found = {}
    for model in candidates if candidates is not None else apps.get_models():
        fields = personal_fields(model)
        if fields and model._meta.label not in declared:
            found[model._meta.label] = fields
    return found
