"""Drives tessera's admin API with the client generated from its OpenAPI document."""

import sys

import httpx

from client import AuthenticatedClient
from client.api.users import create, list_, show
from client.api.audit import list_ as list_audit
from client.models import UserCreate

issuer, client_id, secret = sys.argv[1:4]
token = httpx.post(f"{issuer}/token", auth=(client_id, secret), data={"grant_type": "client_credentials"})
token.raise_for_status()
api = AuthenticatedClient(base_url=f"{issuer}/admin/v1", token=token.json()["access_token"], raise_on_unexpected_status=True)

created = create.sync(client=api, body=UserCreate(email="generated.client@example.org", password="a long enough password", name="Gen"))
assert created.email == "generated.client@example.org", created
again = show.sync(client=api, user_id=created.id)
assert again.name == "Gen", again
page = list_.sync(client=api, email_prefix="generated.")
assert [u.id for u in page.items] == [created.id], page
events = list_audit.sync(client=api, event="user.created", user=created.id)
assert len(events.items) == 1 and events.items[0].user_id == created.id, events
print("generated admin API client: created a user, read them back and read their audit event")
