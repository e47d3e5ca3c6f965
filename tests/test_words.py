"""The words customers read in Bahasa Indonesia (issue 17): Django's own awkward password help is
replaced by natural Indonesian (our locale overrides Django's), a deadline is never "oleh <tanggal>",
and convenience stores have one name, "minimarket"."""
import re
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import password_validators_help_texts
from django.urls import reverse
from django.utils import translation

from intrasa.forms import RupiahField

PO = Path(__file__).resolve().parent.parent / "locale" / "id" / "LC_MESSAGES" / "django.po"


def test_password_help_is_natural_indonesian(client, db):
    with translation.override("id"):
        texts = " ".join(str(text) for text in password_validators_help_texts())
    assert "Sandi anda" not in texts and "tidak dapat berupa" not in texts
    assert "Kata sandi Anda tidak boleh hanya berisi angka." in texts
    html = client.get(reverse("accounts:signup"), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Sandi anda" not in html and "Kata sandi Anda tidak boleh" in html


def test_a_deadline_is_never_by_a_person():
    with translation.override("id"):
        assert translation.gettext("Verified and approved by") == "Diverifikasi dan disetujui paling lambat"
        assert "oleh" not in translation.gettext("verified and approved by")


def test_convenience_stores_are_called_minimarket():
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        msgid = " ".join(re.findall(r'"(.*)"', block.split("msgstr")[0].split("msgid", 1)[-1]))
        msgstr = " ".join(re.findall(r'"(.*)"', block.split("msgstr", 1)[-1])) if "msgstr" in block else ""
        if "convenience store" in msgid.lower() and msgstr:
            entries.append((msgid, msgstr))
    assert len(entries) >= 3
    for msgid, msgstr in entries:
        assert "minimarket" in msgstr.lower(), msgid
        assert not re.search(r"gerai|toko serba ada|toko swalayan|ritel", msgstr, re.I), msgstr


@pytest.mark.parametrize("typed,says", [
    ("2.000", "Rp\u00a02.000 kurang dari batas minimum Rp\u00a010.000"),
    ("2.000.000.000", "Rp\u00a02.000.000.000 melebihi batas maksimum Rp\u00a01.000.000.000"),
])
def test_an_amount_out_of_range_says_which_limit_it_passed(typed, says):
    field = RupiahField(min_value=10_000, max_value=1_000_000_000)
    with translation.override("id"):
        with pytest.raises(Exception) as refused:
            field.clean(typed)
    assert says in " ".join(refused.value.messages)
