NAME = "feed"
DESCRIPTION = "stub"
