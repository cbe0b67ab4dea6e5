"""One module per release source. Each exposes NAME, DESCRIPTION, parse(body, ...) and plan(options)."""
