"""Attribute definitions: what the protocol layer resolves names against."""

from __future__ import annotations

import pytest
from scim2_models.path import Path

from shared.scim.errors import ScimError
from shared.scim.schema import (
    EMPLOYEE,
    ENTERPRISE_USER,
    GROUP,
    GROUP_SCHEMA,
    USER,
    USER_SCHEMA,
    AttrDef,
    ResourceSchema,
    schema_defs,
)


def _path(text: str):
    return Path(text).ast


def _all(attrs: tuple[AttrDef, ...]):
    for attr in attrs:
        yield attr
        yield from attr.sub_attributes


def test_resource_schemas():
    assert (USER_SCHEMA.resource_type, USER_SCHEMA.endpoint, USER_SCHEMA.core) == ("User", "/Users", USER)
    assert USER_SCHEMA.extensions == (ENTERPRISE_USER, EMPLOYEE)
    assert (GROUP_SCHEMA.resource_type, GROUP_SCHEMA.endpoint, GROUP_SCHEMA.core, GROUP_SCHEMA.extensions) == (
        "Group",
        "/Groups",
        GROUP,
        (),
    )


@pytest.mark.parametrize(
    "schema,name,uri,canonical,owner",
    [
        (USER_SCHEMA, "username", None, "userName", USER),
        (USER_SCHEMA, "USERNAME", USER.upper(), "userName", USER),
        (USER_SCHEMA, "emails", None, "emails", USER),
        (USER_SCHEMA, "ID", None, "id", ""),
        (USER_SCHEMA, "externalid", None, "externalId", ""),
        (USER_SCHEMA, "Meta", USER, "meta", ""),
        # un-qualified names that exist only in an extension resolve there
        (USER_SCHEMA, "manager", None, "manager", ENTERPRISE_USER),
        (USER_SCHEMA, "Department", None, "department", ENTERPRISE_USER),
        (USER_SCHEMA, "employeenumber", None, "employeeNumber", ENTERPRISE_USER),
        (USER_SCHEMA, "status", None, "status", EMPLOYEE),
        (USER_SCHEMA, "manager", ENTERPRISE_USER.lower(), "manager", ENTERPRISE_USER),
        (USER_SCHEMA, "status", EMPLOYEE, "status", EMPLOYEE),
        (GROUP_SCHEMA, "DISPLAYNAME", None, "displayName", GROUP),
        (GROUP_SCHEMA, "members", GROUP, "members", GROUP),
        (GROUP_SCHEMA, "id", None, "id", ""),
    ],
)
def test_attribute_lookup(schema, name, uri, canonical, owner):
    attr = schema.attribute(name, uri)
    assert attr is not None and attr.name == canonical and attr.schema == owner


@pytest.mark.parametrize(
    "schema,name,uri",
    [
        (USER_SCHEMA, "password", None),  # never stored, so unknown
        (USER_SCHEMA, "nope", None),
        (USER_SCHEMA, "userName", ENTERPRISE_USER),  # a core attribute is not in the extension
        (USER_SCHEMA, "manager", USER),  # nor an extension attribute in the core schema
        (USER_SCHEMA, "manager", "urn:example:unknown"),
        (GROUP_SCHEMA, "manager", None),  # groups have no extensions
        (GROUP_SCHEMA, "userName", None),
    ],
)
def test_attribute_lookup_misses(schema, name, uri):
    assert schema.attribute(name, uri) is None


def test_core_wins_over_extension_for_displayname():
    # displayName exists on the core User; the enterprise manager's displayName is a sub-attribute, not a rival
    assert USER_SCHEMA.attribute("displayName").schema == USER


class _TwoExtensions(ResourceSchema):
    """A schema whose two extensions both define `code`: an un-qualified `code` is ambiguous."""

    def _attributes(self, uri):
        return {"urn:core": (AttrDef("name", "string", schema="urn:core"),)}.get(uri) or (
            AttrDef("code", "string", schema=uri),
        )


def test_unqualified_name_in_two_extensions_is_ambiguous():
    schema = _TwoExtensions("Thing", "/Things", "urn:core", ("urn:ext:a", "urn:ext:b"))
    assert schema.attribute("code") is None
    assert schema.attribute("code", "urn:ext:b").schema == "urn:ext:b"


def test_extension_key_is_case_insensitive():
    assert USER_SCHEMA.extension_key(ENTERPRISE_USER.upper()) == ENTERPRISE_USER
    assert USER_SCHEMA.extension_key(USER) is None
    assert GROUP_SCHEMA.extension_key(ENTERPRISE_USER) is None


def test_container_is_the_extension_key_or_none():
    assert USER_SCHEMA.container(USER_SCHEMA.attribute("manager")) == ENTERPRISE_USER
    assert USER_SCHEMA.container(USER_SCHEMA.attribute("userName")) is None
    assert USER_SCHEMA.container(USER_SCHEMA.attribute("id")) is None


@pytest.mark.parametrize(
    "path,attr,sub",
    [
        ("userName", "userName", None),
        ("name.GIVENNAME", "name", "givenName"),
        ("emails.value", "emails", "value"),
        (f"{ENTERPRISE_USER}:manager", "manager", None),
        (f"{ENTERPRISE_USER}:manager.value", "manager", "value"),
        (f"{USER}:name.familyName", "name", "familyName"),
        ("meta.lastModified", "meta", "lastModified"),
    ],
)
def test_find_and_resolve(path, attr, sub):
    found = USER_SCHEMA.find(_path(path))
    assert found is not None
    assert (found[0].name, found[1].name if found[1] else None) == (attr, sub)
    assert USER_SCHEMA.resolve(_path(path)) == found


@pytest.mark.parametrize(
    "path", ["nope", "name.nope", "userName.value", f"{ENTERPRISE_USER}:userName", "urn:example:x:2.0:User:a"]
)
def test_unknown_paths(path):
    assert USER_SCHEMA.find(_path(path)) is None
    with pytest.raises(ScimError) as raised:
        USER_SCHEMA.resolve(_path(path))
    assert (raised.value.status, raised.value.scim_type) == (400, "invalidPath")


def test_common_attributes():
    id_, external, meta = (USER_SCHEMA.attribute(n) for n in ("id", "externalId", "meta"))
    assert (id_.mutability, id_.case_exact, id_.returned) == ("readOnly", True, "always")
    assert (external.mutability, external.case_exact) == ("readWrite", True)
    assert meta.type == "complex" and meta.mutability == "readOnly"
    assert [s.name for s in meta.sub_attributes] == ["resourceType", "created", "lastModified", "location", "version"]
    assert meta.sub("lastmodified").type == "dateTime"
    assert GROUP_SCHEMA.attribute("id") == id_


def test_user_core_adjustments():
    user = schema_defs()[USER]
    names = {a.name for a in user.attributes}
    assert "password" not in names
    assert USER_SCHEMA.attribute("userName").required and USER_SCHEMA.attribute("userName").uniqueness == "server"
    groups = USER_SCHEMA.attribute("groups")
    assert groups.read_only and all(s.read_only for s in groups.sub_attributes)
    emails = USER_SCHEMA.attribute("emails")
    # stored and writable, just not advertised (Microsoft's validator rejects them in /Schemas)
    assert emails.sub("display") is not None and not emails.sub("display").advertised
    assert emails.sub("primary").type == "boolean" and not emails.sub("primary").advertised
    assert emails.sub("value").advertised and emails.sub("type").advertised


def test_every_type_sub_attribute_has_canonical_values():
    types = [
        (owner.name, sub)
        for definition in schema_defs().values()
        for owner in definition.attributes
        for sub in owner.sub_attributes
        if sub.name == "type"
    ]
    assert len(types) >= 9
    assert all(sub.canonical_values for _, sub in types), [name for name, sub in types if not sub.canonical_values]


@pytest.mark.parametrize(
    "attribute,values",
    [
        ("emails", ("work", "home", "other")),
        ("phoneNumbers", ("work", "home", "mobile", "fax", "pager", "other")),
        ("addresses", ("work", "home", "other")),
        ("ims", ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        ("photos", ("photo", "thumbnail")),
    ],
)
def test_rfc_canonical_types(attribute, values):
    assert USER_SCHEMA.attribute(attribute).sub("type").canonical_values == values


def test_enterprise_manager():
    manager = USER_SCHEMA.attribute("manager")
    assert manager.type == "complex" and not manager.multi_valued
    assert [s.name for s in manager.sub_attributes] == ["value", "$ref", "displayName"]
    assert manager.sub("displayName").read_only
    assert not any(s.required for s in manager.sub_attributes)  # Entra sends a bare id, never a $ref


def test_employee_extension():
    (status,) = schema_defs()[EMPLOYEE].attributes
    assert (status.name, status.type, status.mutability, status.returned) == ("status", "string", "readOnly", "default")
    assert status.canonical_values == ("staged", "invited", "active", "archived")


def test_group_definitions():
    display = GROUP_SCHEMA.attribute("displayName")
    assert display.required and display.uniqueness == "server"
    members = GROUP_SCHEMA.attribute("members")
    assert members.type == "complex" and members.multi_valued
    assert {s.name for s in members.sub_attributes} == {"value", "display", "type", "$ref"}
    assert not members.sub("display").advertised  # membership rows keep ids only
    assert members.sub("value").mutability == "immutable" and members.sub("value").case_exact
    assert members.sub("type").canonical_values == ("User",)  # no nested groups
    assert members.sub("$ref").reference_types == ("User",)


def test_every_definition_has_a_known_type_and_owner():
    kinds = {"string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"}
    for uri, definition in schema_defs().items():
        for attr in _all(definition.attributes):
            assert attr.type in kinds and attr.schema == uri
            assert attr.mutability in {"readWrite", "readOnly", "immutable", "writeOnly"}
            assert attr.returned in {"always", "default", "request", "never"}
            assert attr.uniqueness in {"none", "server", "global"}
            assert bool(attr.sub_attributes) == (attr.type == "complex")
