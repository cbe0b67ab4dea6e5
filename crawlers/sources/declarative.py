NAME = "html"
DESCRIPTION = "stub"
