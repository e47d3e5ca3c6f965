from tests.disputes.conftest import (  # noqa: F401 - the same fixtures for refund tests
    _english,
    customer_service,
    disputed,
    finance,
    officer,
    sendme,
    shipped,
)
