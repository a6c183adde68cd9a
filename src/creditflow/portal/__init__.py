"""The customer portal: /portal pages and the /v1/portal JSON API, scoped to one customer."""
