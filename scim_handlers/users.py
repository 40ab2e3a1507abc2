"""/scim/v2/Users"""

from scim_handlers.resource_endpoints import Service, routes
from scim_handlers.triggers import blueprint
from shared import users
from shared.query import USERS

SERVICE = Service(
    kind=USERS,
    create=users.create_user,
    get=lambda scope, user_id, with_groups: users.get_user(scope, user_id, with_groups=with_groups),
    replace=users.replace_user,
    patch=users.patch_user,
    delete=users.delete_user,
    related="groups",
)
ROUTES = routes("users", "Users", SERVICE)
bp = blueprint(ROUTES)
