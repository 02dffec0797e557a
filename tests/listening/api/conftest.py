# The API tests' fixtures (team: one member per role, token_for, api_as).
from api.conftest import api_as, fast_user, team, token_for  # noqa: F401
