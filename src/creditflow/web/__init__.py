"""What the portal and the operator console share: templates, assets, sessions, CSRF, formatting, headers."""
