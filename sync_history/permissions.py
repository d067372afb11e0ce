"""What the roles may do with sync history (discovered by accounts.roles): everyone reads."""

ROLE_GRANTS: dict[str, list[str]] = {
    "Viewer": ["sync_history.view_syncevent"],
    "Editor": ["sync_history.view_syncevent"],
    "Admin": ["sync_history.view_syncevent"],
}
