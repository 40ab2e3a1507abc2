"""The per-tenant invitation template: subject, text and HTML bodies with four placeholders, and the URL
template the invitation link is built from.

Substitution is a plain lookup of `{name}` in a fixed table: no format-string attribute or index access,
no expressions, so a tenant's template cannot reach anything but the four values. Values are HTML-escaped
in the HTML body, URL-quoted inside the link, and line breaks are removed from the subject (a header).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from shared.errors import Invalid

PLACEHOLDERS = ("displayName", "organisation", "invitationUrl", "expires")
URL_PLACEHOLDERS = ("invitationId", "employeeId", "tenantId")
MAX_SUBJECT = 300
MAX_BODY = 15_000  # a rendered body is kept on the invitation row: a string property holds 32 K characters
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Template:
    subject: str
    text: str
    html: str
    invitation_url: str  # e.g. https://vault.example.com/join/{invitationId}


DEFAULT = Template(
    subject="{organisation} invited you to the password manager",
    text=(
        "Hello {displayName},\n\n"
        "{organisation} invited you to join its password manager.\n"
        "Accept the invitation here: {invitationUrl}\n\n"
        "The invitation expires on {expires}. If you did not expect it, you can ignore this e-mail.\n"
    ),
    html=(
        "<!doctype html><html><body>"
        "<p>Hello {displayName},</p>"
        "<p>{organisation} invited you to join its password manager.</p>"
        '<p><a href="{invitationUrl}">Accept the invitation</a></p>'
        "<p>The invitation expires on {expires}. If you did not expect it, you can ignore this e-mail.</p>"
        "</body></html>"
    ),
    invitation_url="{publicBaseUrl}/invitations/{invitationId}",
)


def _check_fields(text: str, allowed: tuple[str, ...], name: str) -> None:
    unknown = sorted({m.group(1) for m in _FIELD.finditer(text)} - set(allowed))
    if unknown:
        raise Invalid(f"{name} uses unknown placeholder(s) {', '.join(unknown)}; use {', '.join(allowed)}.")


def validate(template: Template) -> Template:
    """Refuse what would render badly or not fit, with a message naming the field."""
    if not template.subject.strip() or len(template.subject) > MAX_SUBJECT or "\n" in template.subject:
        raise Invalid(f"subject must be one line of 1 to {MAX_SUBJECT} characters.")
    for name, body in (("text", template.text), ("html", template.html)):
        if not body.strip() or len(body) > MAX_BODY:
            raise Invalid(f"{name} must be 1 to {MAX_BODY} characters.")
    for name, body in (("subject", template.subject), ("text", template.text), ("html", template.html)):
        _check_fields(body, PLACEHOLDERS, name)
    if "{invitationUrl}" not in template.text or "{invitationUrl}" not in template.html:
        raise Invalid("text and html must both contain {invitationUrl}.")
    url = template.invitation_url.replace("{publicBaseUrl}", "")
    _check_fields(url, URL_PLACEHOLDERS, "invitationUrl")
    if not template.invitation_url.startswith(("https://", "http://", "{publicBaseUrl}")):
        raise Invalid(
            "invitationUrl must be an http(s) URL template, e.g. https://vault.example.com/join/{invitationId}."
        )
    return template


def from_dict(data: dict[str, Any], base: Template = DEFAULT) -> Template:
    """A template from the admin API's field names, unset fields taken from base."""
    fields = {"subject": "subject", "text": "text", "html": "html", "invitationUrl": "invitation_url"}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise Invalid(f"Unknown template field(s) {', '.join(unknown)}; use {', '.join(fields)}.")
    values = asdict(base)
    for key, attr in fields.items():
        if data.get(key) is not None:
            if not isinstance(data[key], str):
                raise Invalid(f"{key} must be a string.")
            values[attr] = data[key]
    return validate(Template(**values))


def to_dict(template: Template) -> dict[str, str]:
    return {
        "subject": template.subject,
        "text": template.text,
        "html": template.html,
        "invitationUrl": template.invitation_url,
    }


def _substitute(text: str, values: dict[str, str]) -> str:
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def render(template: Template, values: dict[str, str], url_values: dict[str, str]) -> tuple[str, str, str]:
    """(subject, text, html) for one invitation. values: displayName, organisation, expires; url_values:
    publicBaseUrl (used as is) and the URL placeholders (quoted)."""
    quoted = {k: quote(v, safe="") for k, v in url_values.items() if k != "publicBaseUrl"}
    url = _substitute(template.invitation_url.replace("{publicBaseUrl}", url_values.get("publicBaseUrl", "")), quoted)
    plain = {**values, "invitationUrl": url}
    one_line = {k: " ".join(v.split()) for k, v in plain.items()}
    escaped = {k: html.escape(v, quote=True) for k, v in plain.items()}
    return (
        _substitute(template.subject, one_line),
        _substitute(template.text, plain),
        _substitute(template.html, escaped),
    )
