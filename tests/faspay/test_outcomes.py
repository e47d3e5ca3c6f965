"""What a SendMe answer means for a payout (REFERENCE.md §2.1), read from typed results."""
import pytest

from faspay import outcomes
from faspay.results import TransferResult, TransferStatus

Outcome = outcomes.Outcome


@pytest.mark.parametrize(("code", "expected"), [
    ("2001800", Outcome.ACCEPTED), ("2021800", Outcome.ACCEPTED), ("2003800", Outcome.ACCEPTED),
    ("4011800", Outcome.NOT_PROCESSED), ("4091800", Outcome.NOT_PROCESSED), ("4291800", Outcome.NOT_PROCESSED),
    ("4291801", Outcome.NOT_PROCESSED),
    ("4091801", Outcome.UNKNOWN), ("4041818", Outcome.UNKNOWN), ("5001800", Outcome.UNKNOWN),
    ("5001801", Outcome.UNKNOWN), ("5041800", Outcome.UNKNOWN), ("5000000", Outcome.UNKNOWN),
    ("4031814", Outcome.FAILED), ("4031802", Outcome.FAILED), ("4041811", Outcome.FAILED),
    ("4041803", Outcome.FAILED), ("4001801", Outcome.FAILED), ("4011801", Outcome.FAILED),
])
def test_classify(code, expected):
    result = TransferResult.parse(int(code[:3]), {"responseCode": code, "responseMessage": ""})
    assert outcomes.classify(result) == expected


def test_is_not_found_reads_the_typed_status():
    assert outcomes.is_not_found(TransferStatus.parse(404, {"responseCode": "4043601"}))
    assert outcomes.is_not_found(TransferStatus.parse(200, {"responseCode": "2003600",
                                                            "latestTransactionStatus": outcomes.NOT_FOUND}))
    assert not outcomes.is_not_found(TransferStatus.parse(200, {"responseCode": "2003600",
                                                                "latestTransactionStatus": outcomes.SUCCESS}))
    assert not outcomes.is_not_found(TransferStatus.parse(404, {"responseCode": "4043611"}))


def test_latest_statuses_partition_the_bi_enum():
    every = {outcomes.SUCCESS, outcomes.REVERSED, outcomes.NOT_FOUND, *outcomes.IN_PROCESS, *outcomes.FAILED}
    assert every == {f"{n:02d}" for n in range(8)}
