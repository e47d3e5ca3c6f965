"""The sandbox refuses to run in production by accident."""
from sandbox.apps import check_sandbox_not_in_production


def test_enabled_without_debug_is_an_error(settings):
    settings.DEBUG = False
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.FASPAY_SANDBOX_ALLOW_IN_PRODUCTION = False
    [error] = check_sandbox_not_in_production()
    assert error.id == "sandbox.E001"


def test_allowed_explicitly_or_in_debug_or_disabled(settings):
    settings.DEBUG = False
    settings.FASPAY_SANDBOX_ENABLED = True
    settings.FASPAY_SANDBOX_ALLOW_IN_PRODUCTION = True
    assert check_sandbox_not_in_production() == []
    settings.FASPAY_SANDBOX_ALLOW_IN_PRODUCTION = False
    settings.DEBUG = True
    assert check_sandbox_not_in_production() == []
    settings.DEBUG = False
    settings.FASPAY_SANDBOX_ENABLED = False
    assert check_sandbox_not_in_production() == []
