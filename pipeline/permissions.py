"""What the roles may do in the pipeline (discovered by accounts.roles).

Editors and Admins manage routes and hook URLs and replay; Viewers read.
"""

_READ = [
    "pipeline.view_route",
    "pipeline.view_inboundmessage",
    "pipeline.view_delivery",
    "pipeline.view_canonicalrecord",
]
_CHANGE = ["pipeline.add_route", "pipeline.change_route", "pipeline.delete_route"]

ROLE_GRANTS: dict[str, list[str]] = {
    "Viewer": _READ,
    "Editor": [*_READ, *_CHANGE],
    "Admin": [*_READ, *_CHANGE],
}
