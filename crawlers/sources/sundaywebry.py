NAME = "sundaywebry"
DESCRIPTION = "stub"
