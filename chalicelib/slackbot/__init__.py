"""`/newbooks` Slack slash command: parsing, verification, Block Kit replies, deferred jobs."""
