"""/scim/v2/Groups"""

from scim_handlers.resource_endpoints import Service, routes
from scim_handlers.triggers import blueprint
from shared import groups
from shared.query import GROUPS

SERVICE = Service(
    kind=GROUPS,
    create=groups.create_group,
    get=lambda scope, group_id, with_members: groups.get_group(scope, group_id, with_members=with_members),
    replace=lambda scope, group_id, body, if_match: groups.to_resource(
        scope, groups.replace_group(scope, group_id, body, if_match), None
    ),
    patch=lambda scope, group_id, body, if_match: groups.to_resource(
        scope, groups.patch_group(scope, group_id, body, if_match), None
    ),
    delete=groups.delete_group,
    related="members",
)
ROUTES = routes("groups", "Groups", SERVICE)
bp = blueprint(ROUTES)
