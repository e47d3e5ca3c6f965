from tests.disputes.conftest import (  # noqa: F401 - disputed transactions and staff per role
    customer_service,
    disputed,
    finance,
    officer,
    shipped,
)
