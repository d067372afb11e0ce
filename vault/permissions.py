"""Permissions of the vault that the roles (accounts.roles) grant.

Admins see secrets as masks and the audit of reads, read-only. Nobody changes
or deletes an audit row; secrets are written through the services (and, by
superusers, the Desk's write-only form).
"""

ADMIN_PERMISSIONS = ["vault.view_secret", "vault.view_secretread"]
