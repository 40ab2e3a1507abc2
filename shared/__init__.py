"""Everything that is not HTTP: SCIM protocol rules, storage, and the services that join them."""
