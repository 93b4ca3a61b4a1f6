"""The built-in OpenID Connect provider (demo and tests only).

A separate component, as if it were an external identity provider: its
tables are platform-wide (no tenant, no row-level security), and the
platform logs in through it as a relying party, exactly as through Pro Santé
Connect or any other provider. See :mod:`core.identity.idp.server`.
"""
