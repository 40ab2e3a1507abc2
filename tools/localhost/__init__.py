"""A stand-in for the Azure Functions host: serves a FunctionApp's HTTP triggers with werkzeug and fires
its timer triggers, so the app runs and is tested without Core Tools (`python -m tools.localhost`)."""
