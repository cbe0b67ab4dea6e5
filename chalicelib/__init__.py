"""newbooks application code: domain, services and adapters (AWS, Slack, X, HTTP)."""
