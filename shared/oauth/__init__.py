"""OAuth 2.0 for Entra's provisioning service: the token endpoint's rules (client credentials, RFC 6749
§4.4), client secrets, access tokens, and workload identity federation (RFC 7523 client assertions)."""
