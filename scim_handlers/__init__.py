"""HTTP edge: one blueprint per resource family. Parses requests, calls a service, renders SCIM responses."""
