"""Every rule of refund-policy.txt (and the FAQ's dispute rules), one test each, against
refunds.policy — the one place they live."""
import datetime as dt

import pytest

from refunds import policy
from refunds.policy import DisputeReason, Document, PaymentFamily, RefundCase, Route

ITEM, SHIPPING, BUYER_FEE = 1_000_000, 25_000, 10_000
HELD = ITEM + SHIPPING + BUYER_FEE


# 1) When refunds apply
def test_refund_applies_to_cancellation_stock_out_or_changed_estimate():
    assert policy.DISPUTE_REFUND_CASE[DisputeReason.CANCELLATION] == RefundCase.CANCELLATION


@pytest.mark.parametrize("reason", ["defective", "wrong_item", "short_shipment", "not_as_described"])
def test_refund_applies_to_an_approved_return_doa_defect_wrong_or_short(reason):
    assert policy.DISPUTE_REFUND_CASE[reason] == RefundCase.RETURN_SELLER_FAULT
    assert RefundCase.RETURN_SELLER_FAULT in policy.RETURN_CASES


def test_refund_applies_to_a_non_defect_return_under_the_policy():
    assert RefundCase.RETURN_NON_DEFECT in policy.RETURN_CASES


def test_refund_applies_to_double_or_repeated_payment():
    assert policy.OWED_BACK_CASES["double"] == RefundCase.DOUBLE_PAYMENT


def test_refund_applies_to_a_failed_but_charged_payment():
    assert policy.OWED_BACK_CASES["short"] == RefundCase.FAILED_PAYMENT
    assert RefundCase.FAILED_PAYMENT in policy.BUYER_REQUESTABLE_CASES


def test_refund_applies_to_a_late_preorder_the_buyer_cancels():
    assert policy.DISPUTE_REFUND_CASE[DisputeReason.PREORDER_LATE] == RefundCase.PREORDER_LATE


def test_faq_not_shipped_claim_is_refunded_after_staff_verification():
    assert policy.DISPUTE_REFUND_CASE[DisputeReason.NOT_SHIPPED] == RefundCase.NOT_SHIPPED
    assert DisputeReason.NOT_SHIPPED in policy.STAFF_VERIFIED_REASONS
    now = dt.datetime(2026, 6, 10, 12, tzinfo=dt.timezone.utc)
    assert policy.not_shipped_claim_allowed(shipped=False, shipping_deadline=now - dt.timedelta(hours=1), now=now)
    assert not policy.not_shipped_claim_allowed(shipped=False, shipping_deadline=now + dt.timedelta(hours=1), now=now)
    assert not policy.not_shipped_claim_allowed(shipped=True, shipping_deadline=now - dt.timedelta(hours=1), now=now)


# 2) Amounts
def test_seller_fault_refund_is_item_value_plus_shipping():
    figure = policy.refund_amount(RefundCase.RETURN_SELLER_FAULT, price=ITEM, shipping_cost=SHIPPING,
                                  buyer_fee=BUYER_FEE, held=HELD)
    assert figure.amount == ITEM + SHIPPING + BUYER_FEE and figure.uncovered_amount == 0


def test_seller_fault_refund_includes_return_shipping_both_ways_capped_at_the_hold():
    figure = policy.refund_amount(RefundCase.RETURN_SELLER_FAULT, price=ITEM, shipping_cost=SHIPPING,
                                  buyer_fee=BUYER_FEE, held=HELD, return_shipping=30_000, item_sent_back=True)
    assert figure.entitlement == HELD + 30_000
    assert figure.amount == HELD and figure.uncovered_amount == 30_000


def test_non_defect_return_refunds_item_value_only_minus_the_sellers_stated_restocking_fee():
    figure = policy.refund_amount(RefundCase.RETURN_NON_DEFECT, price=ITEM, shipping_cost=SHIPPING,
                                  buyer_fee=BUYER_FEE, held=HELD, restocking_fee_basis_points=1_000)
    assert figure.restocking_fee == 100_000
    assert figure.amount == ITEM - 100_000  # shipping not refunded
    # No fee is invented: a seller who stated none charges none.
    none = policy.refund_amount(RefundCase.RETURN_NON_DEFECT, price=ITEM, shipping_cost=SHIPPING,
                                buyer_fee=BUYER_FEE, held=HELD)
    assert none.restocking_fee == 0 and none.amount == ITEM
    assert policy.restocking_fee(333_333, 250) == 8_333  # 2.5%, rounded to the Rupiah
    with pytest.raises(ValueError):
        policy.restocking_fee(ITEM, 5_001)


def test_discounted_price_is_the_refund_basis():
    # The price agreed on INTRASA is the price after any bundle or promo discount.
    discounted = 800_000
    figure = policy.refund_amount(RefundCase.CANCELLATION, price=discounted, shipping_cost=0, buyer_fee=0,
                                  held=discounted)
    assert figure.amount == discounted


def test_promo_code_is_never_paid_out_and_reissued_only_when_whole_order_cancelled_and_valid():
    assert policy.PROMO_CODE_PAID_AS_MONEY is False
    assert policy.promo_code_outcome(whole_order_cancelled=True, code_still_valid=True) == "reissue"
    assert policy.promo_code_outcome(whole_order_cancelled=True, code_still_valid=False) == "forfeit"
    assert policy.promo_code_outcome(whole_order_cancelled=False, code_still_valid=True) == "forfeit"


@pytest.mark.parametrize("family", [PaymentFamily.CARD, PaymentFamily.INSTALMENT, PaymentFamily.PAYLATER])
def test_card_instalment_paylater_go_through_the_issuer_without_bank_admin_fees(family):
    # INTRASA has no card channel today; the rule is encoded so a future channel cannot skip it.
    assert policy.refund_route(family) == Route.ISSUER
    assert policy.refundable_after_issuer_fees(500_000, family=family, issuer_admin_fee=5_000) == 495_000
    assert policy.transfer_window(family) == (7, 14)


def test_split_fee_is_borne_by_the_seller_part_and_waived_beyond_it():
    split = policy.split_allocation(held=HELD, buyer_amount=500_000, fee_amount=20_000)
    assert (split.buyer, split.seller, split.fee) == (500_000, HELD - 500_000 - 20_000, 20_000)
    small = policy.split_allocation(held=HELD, buyer_amount=HELD - 5_000, fee_amount=20_000)
    assert (small.seller, small.fee) == (0, 5_000)
    with pytest.raises(ValueError):
        policy.split_allocation(held=HELD, buyer_amount=HELD, fee_amount=20_000)


# 3) Timelines
def test_verification_and_approval_within_two_times_24_working_hours():
    assert policy.APPROVAL_WORKING_HOURS == 48


@pytest.mark.parametrize("family,window", [
    (PaymentFamily.BANK_TRANSFER, (3, 7)), (PaymentFamily.VIRTUAL_ACCOUNT, (1, 3)), (PaymentFamily.QRIS, (1, 3)),
    (PaymentFamily.EWALLET, (1, 3)), (PaymentFamily.CARD, (7, 14)), (PaymentFamily.INSTALMENT, (7, 14)),
])
def test_transfer_times_per_original_method(family, window):
    assert policy.transfer_window(family) == window


# 4) Method
@pytest.mark.parametrize("family", ["bank_transfer", "va", "retail", "qris", "ewallet"])
def test_faspay_collections_are_refunded_by_sendme_to_the_buyers_own_account(family):
    assert policy.refund_route(family) == Route.SENDME_OWN_ACCOUNT


def test_substitute_account_must_be_in_the_same_name():
    assert policy.substitute_account_acceptable(owner_id=1, buyer_id=1, can_receive_payouts=True)
    assert not policy.substitute_account_acceptable(owner_id=1, buyer_id=1, can_receive_payouts=False)
    assert not policy.substitute_account_acceptable(owner_id=2, buyer_id=1, can_receive_payouts=True)


# 5) Documents
def test_every_request_needs_order_number_and_proof_of_payment():
    for case in RefundCase.values:
        assert {Document.ORDER_NUMBER, Document.PROOF_OF_PAYMENT} <= set(policy.required_documents(case))


@pytest.mark.parametrize("case", [RefundCase.RETURN_SELLER_FAULT, RefundCase.RETURN_NON_DEFECT])
def test_returns_need_rma_return_receipt_and_inspection_result(case):
    assert {Document.RMA_NUMBER, Document.RETURN_RECEIPT, Document.INSPECTION_RESULT} <= set(
        policy.required_documents(case))


@pytest.mark.parametrize("case", [RefundCase.DOUBLE_PAYMENT, RefundCase.FAILED_PAYMENT])
def test_double_or_failed_payments_need_a_bank_statement(case):
    assert Document.BANK_STATEMENT in policy.required_documents(case)


def test_missing_documents_are_named():
    assert policy.missing_documents(RefundCase.DOUBLE_PAYMENT, [Document.ORDER_NUMBER]) == [
        Document.PROOF_OF_PAYMENT, Document.BANK_STATEMENT]


# 6) Exclusions
def test_delivered_or_activated_digital_licences_and_vouchers_are_not_refundable():
    assert policy.is_excluded(licence_or_voucher=True, delivered_or_activated=True)
    assert not policy.is_excluded(licence_or_voucher=True, delivered_or_activated=False)
    assert not policy.is_excluded(licence_or_voucher=False, delivered_or_activated=True)  # other digital goods
    assert not policy.is_excluded(licence_or_voucher=True, delivered_or_activated=True, seller_agrees=True)


# 7) How to ask
def test_whatsapp_link_to_customer_service_prefilled_with_the_subject():
    assert policy.CUSTOMER_SERVICE_WHATSAPP == "0813-9800-9700"
    assert policy.whatsapp_link("INT-ABC") == "https://wa.me/6281398009700?text=Refund%20%E2%80%93%20INT-ABC"


def test_reply_deadlines_are_working_days():
    assert policy.OFFER_REPLY_WORKING_DAYS == 2 and policy.SELLER_FIRST_REPLY_WORKING_DAYS == 2
