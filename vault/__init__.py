"""The credential vault: secrets sealed with AES-256-GCM under a versioned keyring.

Services (``vault.services``) seal, reveal, replace and delete secrets;
``vault.rotation`` and the ``vault_rotate`` command re-seal them with the
newest key; every reveal leaves a ``SecretRead`` row in the tenant's schema.
"""
