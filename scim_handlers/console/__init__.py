"""/admin/...: the admin console's HTTP edge (server-rendered Jinja2 pages, a small JSON API its script
calls, static files). Rules live in shared.console; this package only translates HTTP."""
