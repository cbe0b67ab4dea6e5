NAME = "comicwalker"
DESCRIPTION = "stub"
