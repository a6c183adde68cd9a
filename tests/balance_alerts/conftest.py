from tests.mail.smtp_sink import settings, smtp

__all__ = ["settings", "smtp"]
