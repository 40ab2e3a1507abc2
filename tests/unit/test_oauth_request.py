"""The token endpoint's request rules (shared.oauth.endpoint), without I/O: form parsing, Basic
credentials, one authentication method per request, grant type and scope."""

from __future__ import annotations

import base64

import pytest

from shared.oauth import endpoint
from shared.oauth.errors import INVALID_CLIENT, INVALID_REQUEST, INVALID_SCOPE, UNSUPPORTED_GRANT_TYPE, OAuthError

FORM = "application/x-www-form-urlencoded"
JWT = endpoint.JWT_BEARER


def _error(fn, *args) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        fn(*args)
    return caught.value


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_a_form_body_is_parsed_and_empty_values_count_as_omitted():
    form = endpoint.parse_form(b"grant_type=client_credentials&scope=&client_id=a%2Bb", f"{FORM}; charset=UTF-8")
    assert form == {"grant_type": "client_credentials", "client_id": "a+b"}


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"grant_type": "client_credentials"}', "application/json"),
        (b"grant_type=client_credentials", None),
        (b"grant_type=client_credentials&grant_type=client_credentials", FORM),
        (b"client_id=a&grant_type=client_credentials&client_id=b", FORM),
        (b"client_id=a&client_id=", FORM),
        (b"grant_type=%ff", FORM),
        (b"x" * (endpoint.MAX_FORM_BYTES + 1), FORM),
    ],
    ids=["json", "no-content-type", "repeated", "repeated-different", "repeated-empty", "not-utf8", "too-large"],
)
def test_a_body_that_is_not_one_form_is_invalid_request(body, content_type):
    assert _error(endpoint.parse_form, body, content_type).error == INVALID_REQUEST


def test_basic_credentials_are_form_urlencoded_before_base64():
    # RFC 6749 §2.3.1: an id or secret with ':' or '+' arrives percent-encoded inside Basic.
    header = _basic("tenant%3Aone", "se%2Bcret%3Ax")
    assert endpoint.parse_basic(header) == ("tenant:one", "se+cret:x")
    assert endpoint.parse_basic("Bearer abc") is None and endpoint.parse_basic(None) is None


@pytest.mark.parametrize("header", ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode()])
def test_malformed_basic_credentials_are_invalid_client(header):
    assert _error(endpoint.parse_basic, header).error == INVALID_CLIENT


def test_secret_in_the_body_or_in_basic():
    assert endpoint.credentials({"client_id": "c", "client_secret": "s"}, None) == endpoint.Credentials("c", "s")
    assert endpoint.credentials({"client_id": "c"}, ("c", "s")) == endpoint.Credentials("c", "s")


@pytest.mark.parametrize(
    "form, basic",
    [
        ({"client_id": "c", "client_secret": "s"}, ("c", "s")),  # Basic and body credentials together
        ({"client_assertion": "a", "client_assertion_type": JWT}, ("c", "s")),
        ({"client_id": "other"}, ("c", "s")),  # two different client ids
        ({"client_id": "c", "client_secret": "s", "client_assertion": "a", "client_assertion_type": JWT}, None),
        ({"client_id": "c", "client_assertion": "a"}, None),  # assertion without its type
        ({"client_id": "c", "client_assertion_type": JWT}, None),  # type without the assertion
        ({"client_secret": "s"}, None),  # a secret without a client id
    ],
    ids=[
        "basic-and-post",
        "basic-and-assertion",
        "ids-differ",
        "secret-and-assertion",
        "no-type",
        "no-assertion",
        "no-client-id",
    ],
)
def test_more_than_one_method_or_a_missing_half_is_invalid_request(form, basic):
    assert _error(endpoint.credentials, form, basic).error == INVALID_REQUEST


def test_an_assertion_of_another_type_is_invalid_client():
    form = {"client_id": "c", "client_assertion": "a", "client_assertion_type": "urn:example:saml"}
    error = _error(endpoint.credentials, form, None)
    assert (error.error, error.status) == (INVALID_CLIENT, 401)


def test_no_client_authentication_at_all_is_invalid_client():
    assert _error(endpoint.credentials, {"client_id": "c"}, None).error == INVALID_CLIENT
    assert _error(endpoint.credentials, {}, None).error == INVALID_CLIENT


def test_a_jwt_bearer_assertion_is_read_with_its_client_id():
    form = {"client_id": "c", "client_assertion": "h.p.s", "client_assertion_type": JWT}
    assert endpoint.credentials(form, None) == endpoint.Credentials("c", assertion="h.p.s")


@pytest.mark.parametrize(
    "form, error",
    [
        ({}, INVALID_REQUEST),
        ({"grant_type": "password"}, UNSUPPORTED_GRANT_TYPE),
        ({"grant_type": "authorization_code"}, UNSUPPORTED_GRANT_TYPE),
        ({"grant_type": "client_credentials", "scope": 'scim "quoted"'}, INVALID_SCOPE),
        ({"grant_type": "client_credentials", "scope": "a  b"}, INVALID_SCOPE),
    ],
)
def test_grant_type_and_scope_rules(form, error):
    assert _error(endpoint.check_grant, form).error == error


@pytest.mark.parametrize("scope", [None, "scim", "api://app/.default", "unknown other"])
def test_a_well_formed_scope_is_accepted_even_if_unknown(scope):
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    endpoint.check_grant(form)  # ENTRA-AUTH.md: ignore unknown scopes, answer with the granted one
