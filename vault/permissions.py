"""What the roles may do in the vault (discovered by accounts.roles).

Admins see secrets as masks and the audit of reads, read-only. Nobody changes
or deletes an audit row; secrets are written through the services (and, by
superusers, the Desk's write-only form).
"""

ROLE_GRANTS: dict[str, list[str]] = {
    "Admin": ["vault.view_secret", "vault.view_secretread"],
}
