"""Home, fees, FAQ and refund policy: public, linked from every page, content from the seeds."""
import pytest
from django.urls import reverse

from transactions.models import FeeTier

pytestmark = pytest.mark.django_db

PUBLIC = ["home", "pages:check_transaction", "pages:check_payment", "pages:fees", "pages:refund_policy",
          "pages:faq"]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_pages_need_no_login_and_are_linked_from_the_footer(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    for other in PUBLIC[1:]:
        assert f'href="{reverse(other)}"' in html


def test_home_explains_the_six_steps_protection_and_payment_methods(client):
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    steps = html.split('data-testid="steps"')[1].split("</ol>")[0]
    assert steps.count("<li>") == 6
    for method in ("Bank transfer", "Virtual account", "Convenience store", "QRIS"):
        assert method in html
    assert "The buyer" in html and "The seller" in html
    assert "1×24 working hours" in html


def test_fee_page_lists_every_tier_in_one_query(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get(reverse("pages:fees"))
    html = response.content.decode()
    assert html.count('data-testid="fee-tier"') == FeeTier.objects.count() == 5
    for text in ("Rp\xa010.000", "Rp\xa01.000.000", "Rp\xa05.000", "Rp\xa015.000", "0,5", "Rp\xa025.000", "Rp\xa02.500.000"):
        assert text in html


def test_fee_page_follows_the_admins_schedule(client):
    FeeTier.objects.filter(min_amount=10_000).update(flat_fee=7_500)
    assert "Rp\xa07.500" in client.get(reverse("pages:fees")).content.decode()


@pytest.mark.parametrize("payer,buyer_pays,seller_receives", [
    ("buyer", "Rp\xa02.015.000", "Rp\xa02.000.000"),
    ("seller", "Rp\xa02.000.000", "Rp\xa01.985.000"),
    ("split", "Rp\xa02.007.500", "Rp\xa01.992.500"),
])
def test_fee_calculator_works_without_javascript(client, payer, buyer_pays, seller_receives, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get(reverse("pages:fees"), {"price": "2.000.000", "shipping_cost": "", "fee_payer": payer})
    result = response.content.decode().split('data-testid="fee-result"')[1]
    assert "hidden" not in result.split(">")[0]
    assert buyer_pays in result and seller_receives in result


def test_fee_calculator_explains_bad_input(client):
    response = client.get(reverse("pages:fees"), {"price": "USD 5", "fee_payer": "buyer"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Only Rupiah" in response.content.decode()


def test_fee_calculator_script_uses_the_quote_endpoint(client):
    html = client.get(reverse("pages:fees")).content.decode()
    assert f'data-quote-url="{reverse("transactions:quote")}"' in html
    assert "js/fee-calculator.js" in html


def test_faq_and_refund_policy_carry_the_rules(client):
    faq = client.get(reverse("pages:faq"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ("trusted third party", "1×24 working hours", "domestic", "reference number", "QRIS"):
        assert text in faq
    policy = client.get(reverse("pages:refund_policy"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ("2×24 working hours", "3–7 working days", "7–14 working days", "1–3 working days",
                 "same name", "0813-9800-9700", "restocking fee", "digital licences"):
        assert text in policy


def test_pages_are_marked_for_translation():
    """Every visible sentence of the public templates goes through {% translate %}: a crude
    check that no paragraph or list item holds bare English prose."""
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR) / "templates" / "pages"
    for path in root.glob("*.html"):
        text = re.sub(r"{% blocktranslate.*?{% endblocktranslate %}", "", path.read_text(), flags=re.S)
        text = re.sub(r"{%.*?%}|{{.*?}}", "", text, flags=re.S)
        prose = [chunk.strip() for chunk in re.split(r"<[^>]+>", text)
                 if len(re.findall(r"[A-Za-z]{3,}", chunk)) >= 3]
        assert prose == [], (path.name, prose[:3])
