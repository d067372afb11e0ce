"""What the roles may do with sync history (discovered by accounts.roles).

Everyone reads; Editors and Admins replay, retry and discard (the "change"
permission: nobody edits a history row itself).
"""

_READ = ["sync_history.view_syncevent"]
_ACT = ["sync_history.change_syncevent"]

ROLE_GRANTS: dict[str, list[str]] = {
    "Viewer": _READ,
    "Editor": [*_READ, *_ACT],
    "Admin": [*_READ, *_ACT],
}
