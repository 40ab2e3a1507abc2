"""The invitation template: safe placeholders, escaping, validation, the default."""

from __future__ import annotations

import pytest

from shared.errors import Invalid
from shared.mail import template

VALUES = {"displayName": '<script>alert("x")</script> & Co', "organisation": "Contoso\nLtd", "expires": "2026-12-09"}
URL = {"publicBaseUrl": "https://scim.example.com", "invitationId": "abc", "employeeId": "e/1", "tenantId": "t"}


def test_the_default_renders_text_and_escaped_html():
    subject, text, html = template.render(template.DEFAULT, VALUES, URL)
    assert subject == "Contoso Ltd invited you to the password manager"  # no line break in a header
    assert '<script>alert("x")</script> & Co' in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html and "<script>" not in html
    assert (
        "https://scim.example.com/invitations/abc" in text and 'href="https://scim.example.com/invitations/abc"' in html
    )
    assert "2026-12-09" in text


def test_values_are_not_substituted_again_and_url_values_are_quoted():
    custom = template.Template(
        subject="Hi {displayName}",
        text="{displayName} {invitationUrl}",
        html="{invitationUrl}",
        invitation_url="https://vault.example.com/join/{employeeId}?t={tenantId}",
    )
    subject, text, _ = template.render(custom, {**VALUES, "displayName": "{organisation}"}, URL)
    assert subject == "Hi {organisation}" and text.startswith("{organisation} ")
    assert "https://vault.example.com/join/e%2F1?t=t" in text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "{password}"}, "unknown placeholder"),
        ({"text": "no link here"}, "{invitationUrl}"),
        ({"subject": "two\nlines"}, "one line"),
        ({"html": ""}, "html must be"),
        ({"invitationUrl": "javascript:alert(1)"}, "http(s) URL"),
        ({"invitationUrl": "https://x.example/{secret}"}, "unknown placeholder"),
        ({"colour": "red"}, "Unknown template field"),
        ({"subject": 5}, "must be a string"),
    ],
)
def test_bad_templates_are_refused_with_the_field_named(fields, message):
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)").replace("{", r"\{")):
        template.from_dict(fields)


def test_no_format_string_access_reaches_beyond_the_four_values():
    custom = template.from_dict({"subject": "{displayName.__class__} {displayName[0]} {0}"})
    subject, _, _ = template.render(custom, VALUES, URL)
    assert subject == "{displayName.__class__} {displayName[0]} {0}"  # left as written, nothing evaluated


def test_unset_fields_keep_the_base():
    changed = template.from_dict({"subject": "Join {organisation}"})
    assert changed.subject == "Join {organisation}" and changed.text == template.DEFAULT.text
