NAME = "newtype"
DESCRIPTION = "stub"
