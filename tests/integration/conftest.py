from tests.disbursements.conftest import confirmed, sendme  # noqa: F401 - shared fixtures

from .workers import real_broker  # noqa: F401
