"""Rate limits on customer API keys: in-process by default, shared through Redis when configured."""

from creditflow.ratelimit.limiter import Decision, InProcessRateLimiter, RateLimiter, create_rate_limiter

__all__ = ["Decision", "InProcessRateLimiter", "RateLimiter", "create_rate_limiter"]
