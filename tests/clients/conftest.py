from tests.served import served  # noqa: F401 - the session's `creditflow serve`
