"""Customer API keys: keys your customers call your API with, verified (and rate limited) by creditflow."""
