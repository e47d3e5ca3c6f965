from tests.partners.conftest import post_json, terms


def test_create_read_and_cancel(client, setup):
    response = post_json(client, "/api/v1/transactions", terms(setup), setup)
    assert response.status_code == 201, response.content
    body = response.json()
    print(body)
    assert body["status"] == "created"
