"""(being built)"""

ROUTES: list = []
