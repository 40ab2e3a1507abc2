"""SCIM 2.0 protocol rules (RFC 7643/7644) over plain dicts. Imports no Azure package."""
