"""A stand-in for Microsoft Entra ID's provisioning service: replays a directory file's snapshots as Entra's
SCIM traffic (Test Connection, initial cycle, incremental cycles) against any SCIM endpoint.
See docs/entra-simulator.md."""
