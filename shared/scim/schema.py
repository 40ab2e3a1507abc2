"""The resource schemas we implement, as plain attribute definitions.

The definitions come from scim2-models' RFC 7643 models (User, EnterpriseUser, Group), adjusted to what
this service really stores and what Microsoft's validators expect; everything else in the protocol layer
(filters, PATCH, projection, sorting, discovery) resolves attribute names through here, case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from shared.scim.errors import ScimError

if TYPE_CHECKING:
    from scim2_models.path import AttrPath

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMPLOYEE = "urn:ietf:params:scim:schemas:extension:employee:2.0:User"

# Attributes we accept but do not advertise: Microsoft's validator rejects schemas that advertise
# emails.display / emails.primary; nobody provisions entitlements or certificates through Entra; and a
# member's display is not kept (membership rows hold ids only), so a client must not expect it back.
_UNADVERTISED = {
    ("emails", "display"),
    ("emails", "primary"),
    ("members", "display"),
    (None, "entitlements"),
    (None, "x509Certificates"),
}
_DROPPED = {"password"}  # never stored, so never advertised
# RFC 7643 gives these `type` sub-attributes no canonical values; every `type` we advertise has some.
_CANONICAL_TYPES = {
    "members": ("User",),  # no nested groups: members are users of the same tenant
    "roles": ("WindowsAzureActiveDirectoryRole",),
    "entitlements": ("default",),
    "x509Certificates": ("default",),
}


@dataclass(frozen=True)
class AttrDef:
    name: str  # canonical case
    type: str  # string | boolean | decimal | integer | dateTime | reference | complex | binary
    multi_valued: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    required: bool = False
    schema: str = ""  # URN of the owning schema; "" for the common attributes id, externalId, meta
    sub_attributes: tuple[AttrDef, ...] = ()
    canonical_values: tuple[str, ...] = ()
    description: str = ""
    advertised: bool = True  # shown in /Schemas (some stored attributes are deliberately not)
    reference_types: tuple[str, ...] = ()

    def sub(self, name: str) -> AttrDef | None:
        lowered = name.lower()
        return next((s for s in self.sub_attributes if s.name.lower() == lowered), None)

    @property
    def read_only(self) -> bool:
        return self.mutability == "readOnly"

    def to_document(self) -> dict[str, Any]:
        """RFC 7643 §7 attribute definition, nulls omitted."""
        doc: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description or self.name,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.canonical_values:
            doc["canonicalValues"] = list(self.canonical_values)
        if self.type == "reference":
            doc["referenceTypes"] = list(self.reference_types or ("external",))
        subs = [s.to_document() for s in self.sub_attributes if s.advertised]
        if subs:
            doc["subAttributes"] = subs
        return doc


def _from_document(doc: dict[str, Any], schema: str, parent: str | None = None) -> AttrDef:
    name = doc["name"]
    subs = tuple(_from_document(s, schema, name) for s in doc.get("subAttributes", []))
    canonical = tuple(doc.get("canonicalValues") or ())
    if name == "type" and parent in _CANONICAL_TYPES:
        canonical = _CANONICAL_TYPES[parent]
    return AttrDef(
        name=name,
        type=doc["type"],
        multi_valued=bool(doc.get("multiValued")),
        case_exact=bool(doc.get("caseExact")),
        mutability=doc.get("mutability", "readWrite"),
        returned=doc.get("returned", "default"),
        uniqueness=doc.get("uniqueness", "none"),
        required=bool(doc.get("required")),
        schema=schema,
        sub_attributes=subs,
        canonical_values=canonical,
        description=(doc.get("description") or "").replace("\n", " "),
        advertised=(parent, name) not in _UNADVERTISED,
        reference_types=("User",) if (parent, name) == ("members", "$ref") else tuple(doc.get("referenceTypes") or ()),
    )


def _library_attributes(model: Any, schema: str) -> tuple[AttrDef, ...]:
    doc = model.to_schema().model_dump(mode="json", exclude_none=True)
    return tuple(_from_document(a, schema) for a in doc["attributes"] if a["name"] not in _DROPPED)


def _read_only(attr: AttrDef) -> AttrDef:
    return replace(attr, mutability="readOnly", sub_attributes=tuple(_read_only(s) for s in attr.sub_attributes))


def _adjust(attrs: tuple[AttrDef, ...], schema: str) -> tuple[AttrDef, ...]:
    out = []
    for attr in attrs:
        if schema == GROUP and attr.name == "displayName":
            attr = replace(attr, required=True, uniqueness="server")
        if schema == USER and attr.name == "userName":
            attr = replace(attr, required=True, uniqueness="server")
        if schema == USER and attr.name == "groups":
            attr = _read_only(attr)  # derived from membership rows, never written through a User
        if schema == ENTERPRISE_USER and attr.name == "manager":
            # Entra sends a bare id and never a $ref: neither sub-attribute can be required.
            attr = replace(attr, sub_attributes=tuple(replace(s, required=False) for s in attr.sub_attributes))
        out.append(attr)
    return tuple(out)


_COMMON = (
    AttrDef(
        "id",
        "string",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
        description="Unique identifier issued by the service provider.",
    ),
    AttrDef(
        "externalId",
        "string",
        case_exact=True,
        description="Identifier of the resource as defined by the provisioning client.",
    ),
    AttrDef(
        "meta",
        "complex",
        mutability="readOnly",
        description="Resource metadata.",
        sub_attributes=(
            AttrDef("resourceType", "string", case_exact=True, mutability="readOnly"),
            AttrDef("created", "dateTime", mutability="readOnly"),
            AttrDef("lastModified", "dateTime", mutability="readOnly"),
            AttrDef("location", "reference", case_exact=True, mutability="readOnly"),
            AttrDef("version", "string", case_exact=True, mutability="readOnly"),
        ),
    ),
)

_EMPLOYEE_ATTRIBUTES = (
    AttrDef(
        "status",
        "string",
        mutability="readOnly",
        schema=EMPLOYEE,
        canonical_values=("staged", "invited", "active", "archived"),
        description="Employee status in the product: staged, invited, active or archived. Managed by the service.",
    ),
)


@dataclass(frozen=True)
class SchemaDef:
    id: str
    name: str
    description: str
    attributes: tuple[AttrDef, ...]


@cache
def schema_defs() -> dict[str, SchemaDef]:
    from scim2_models import EnterpriseUser, Group, User  # heavy import, paid once on first use

    return {
        USER: SchemaDef(USER, "User", "User Account", _adjust(_library_attributes(User, USER), USER)),
        ENTERPRISE_USER: SchemaDef(
            ENTERPRISE_USER,
            "EnterpriseUser",
            "Enterprise User",
            _adjust(_library_attributes(EnterpriseUser, ENTERPRISE_USER), ENTERPRISE_USER),
        ),
        EMPLOYEE: SchemaDef(
            EMPLOYEE, "Employee", "Employee lifecycle in the product (read-only)", _EMPLOYEE_ATTRIBUTES
        ),
        GROUP: SchemaDef(GROUP, "Group", "Group", _adjust(_library_attributes(Group, GROUP), GROUP)),
    }


@dataclass(frozen=True)
class ResourceSchema:
    resource_type: str
    endpoint: str
    core: str
    extensions: tuple[str, ...] = field(default_factory=tuple)

    def _attributes(self, uri: str) -> tuple[AttrDef, ...]:
        return schema_defs()[uri].attributes

    def extension_key(self, uri: str) -> str | None:
        lowered = uri.lower()
        return next((e for e in self.extensions if e.lower() == lowered), None)

    def is_core(self, uri: str) -> bool:
        return uri.lower() == self.core.lower()

    def attribute(self, name: str, uri: str | None = None) -> AttrDef | None:
        """Case-insensitive lookup. With uri (core or extension, any case) only that schema is searched;
        without, core then common attributes, then an extension attribute whose name is unique among the
        extensions (so a bare `manager` on a User is the enterprise manager)."""
        if uri is not None:
            if self.is_core(uri):
                return _find(self._attributes(self.core), name) or _find(_COMMON, name)
            extension = self.extension_key(uri)
            return _find(self._attributes(extension), name) if extension else None
        found = _find(self._attributes(self.core), name) or _find(_COMMON, name)
        if found is not None:
            return found
        candidates = [a for a in (_find(self._attributes(e), name) for e in self.extensions) if a is not None]
        return candidates[0] if len(candidates) == 1 else None

    def find(self, attr_path: AttrPath) -> tuple[AttrDef, AttrDef | None] | None:
        """(attribute, sub-attribute or None) named by a scim2_models AttrPath; None if either is unknown.
        Filters use this: an unknown attribute simply matches nothing."""
        attr = self.attribute(attr_path.attr, attr_path.uri)
        if attr is None:
            return None
        if not attr_path.sub_attr:
            return attr, None
        sub = attr.sub(attr_path.sub_attr)
        return (attr, sub) if sub is not None else None

    def resolve(self, attr_path: AttrPath) -> tuple[AttrDef, AttrDef | None]:
        """Like find(), but an unknown attribute or sub-attribute is ScimError(400, "invalidPath")."""
        found = self.find(attr_path)
        if found is None:
            qualified = f"{attr_path.uri}:" if attr_path.uri else ""
            dotted = f".{attr_path.sub_attr}" if attr_path.sub_attr else ""
            raise ScimError(
                400,
                "invalidPath",
                f"{qualified}{attr_path.attr}{dotted} is not an attribute of a {self.resource_type}.",
            )
        return found

    def container(self, attr: AttrDef) -> str | None:
        """The resource key holding attr: None for core and common attributes, else the extension URN."""
        return attr.schema if attr.schema and attr.schema != self.core else None


def documented_attributes(uri: str) -> tuple[AttrDef, ...]:
    """The attributes /Schemas shows for uri. RFC 7643 §3.1 keeps the common attributes out of schema
    documents, but Microsoft's gallery validator looks for every mapped attribute in /Schemas and Entra maps
    externalId by default on users and groups, so the core resource schemas advertise it too."""
    common = tuple(a for a in _COMMON if a.name == "externalId") if uri in (USER, GROUP) else ()
    return common + tuple(a for a in schema_defs()[uri].attributes if a.advertised)


def _find(attrs: tuple[AttrDef, ...], name: str) -> AttrDef | None:
    lowered = name.lower()
    return next((a for a in attrs if a.name.lower() == lowered), None)


USER_SCHEMA = ResourceSchema("User", "/Users", USER, (ENTERPRISE_USER, EMPLOYEE))
GROUP_SCHEMA = ResourceSchema("Group", "/Groups", GROUP, ())
