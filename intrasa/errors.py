"""The one base class of every refusal a service gives (DESIGN.md §3).

A service that refuses raises a subclass: nothing changed, ``message`` is written for the person
who tried (in their language), and ``code`` is a stable word for code and tests to tell refusals
apart. Views show ``message``; tasks log ``code``.
"""


class ServiceError(Exception):
    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code
