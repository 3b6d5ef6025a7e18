"""Drives tessera's admin API with the client generated from its OpenAPI document."""

import sys

import httpx

from client import AuthenticatedClient
from client.api.users import create, disable, enable, list_, list_factors, list_sessions, reset_second_factor, show
from client.api.audit import list_ as list_audit
from client.models import UserCreate, UserStatus

issuer, client_id, secret = sys.argv[1:4]
token = httpx.post(f"{issuer}/token", auth=(client_id, secret), data={"grant_type": "client_credentials"})
token.raise_for_status()
api = AuthenticatedClient(base_url=f"{issuer}/admin/v1", token=token.json()["access_token"], raise_on_unexpected_status=True)

created = create.sync(client=api, body=UserCreate(email="generated.client@example.org", password="a long enough password", name="Gen"))
assert created.email == "generated.client@example.org", created
assert created.status == UserStatus.ACTIVE, created
again = show.sync(client=api, user_id=created.id)
assert again.name == "Gen", again
page = list_.sync(client=api, email_prefix="generated.")
assert [u.id for u in page.items] == [created.id], page
events = list_audit.sync(client=api, event="user.created", user=created.id)
assert len(events.items) == 1 and events.items[0].user_id == created.id, events

# The person lost their phone: reset their second factor (they have none yet: nothing to remove,
# and the reset is recorded all the same), then read the audit event of the reset.
factors = list_factors.sync(client=api, user_id=created.id)
assert factors.items == [] and factors.two_factor_method is None, factors
reset = reset_second_factor.sync(client=api, user_id=created.id)
assert reset.previous_method is None and reset.signed_out.sessions == 0, reset
events = list_audit.sync(client=api, event="user.two_factor_reset", user=created.id)
assert len(events.items) == 1, events
assert events.items[0].detail["actor"] == f"client:{client_id}", events.items[0].detail
assert list_sessions.sync(client=api, user_id=created.id).items == []

# Disabled, listed by status, enabled again.
disabled = disable.sync(client=api, user_id=created.id)
assert disabled.status == UserStatus.DISABLED, disabled
page = list_.sync(client=api, status=UserStatus.DISABLED)
assert [u.id for u in page.items] == [created.id], page
assert enable.sync(client=api, user_id=created.id).status == UserStatus.ACTIVE
print("generated admin API client: created a user, read them back, reset their second factor, "
      "read the audit events, disabled and enabled them")
