"""The one Faspay adapter (DESIGN.md §2–3): everything INTRASA knows about speaking to Faspay.

* ``signing`` — SNAP signatures (asymmetric RSA, symmetric HMAC with a B2B token) and the legacy
  Debit digests; ``keys`` — where the key material comes from.
* ``debit`` — the Debit API client (bills: create, inquire, cancel) and the payment notification.
* ``sendme`` — the SendMe SNAP client (account inquiry, transfers, top-ups, their status, the
  deposit's balance and history) and the callback's body.
* ``results`` — typed, frozen results for every answer; ``outcomes`` — what a SendMe answer means.
* ``amounts`` — the one amount codec (whole Rupiah ↔ Faspay's formats); ``urls`` — every endpoint.
* ``errors`` — rejected, unavailable (outcome unknown), malformed answer, refused amount.

A basic layer: it imports nothing from INTRASA's apps or models (``tests/test_architecture.py``),
reads Django settings only to build its default clients and keys, and talks HTTP through a
``requests.Session`` with explicit timeouts and no hidden retries. Apps call it from their services.
"""
