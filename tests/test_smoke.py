from tests.factories import debit, grant, make_customer, wallet


async def test_grant_then_debit(client):
    customer = await make_customer(client)
    await grant(client, customer["id"], "10.00")
    response = await debit(client, customer["id"], "2.50")
    assert response.status_code == 201, response.text
    assert response.json()["wallet"]["available"] == "7.50"
    assert (await wallet(client, customer["id"]))["posted"] == "7.50"
