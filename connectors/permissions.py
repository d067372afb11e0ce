"""What the roles may do with connections (discovered by accounts.roles).

Admins and Editors connect, test, refresh, disable and delete; Viewers read.
"""

_READ = ["connectors.view_connection"]
_CHANGE = [
    "connectors.add_connection",
    "connectors.change_connection",
    "connectors.delete_connection",
]

ROLE_GRANTS: dict[str, list[str]] = {
    "Viewer": _READ,
    "Editor": [*_READ, *_CHANGE],
    "Admin": [*_READ, *_CHANGE],
}
