"""The admin console's rules: who is signed in (principal), how (one-time local links, Entra ID tokens),
the server-side session that remembers it, CSRF checks and what each principal may see.

No HTTP and no Azure SDK here: scim_handlers.console translates requests into calls on these modules."""
