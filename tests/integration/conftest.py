from tests.disbursements.conftest import confirmed, sendme  # noqa: F401 - shared fixtures
