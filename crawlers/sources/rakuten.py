NAME = "rakuten"
DESCRIPTION = "stub"
