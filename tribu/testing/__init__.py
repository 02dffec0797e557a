"""Helpers shared by the test suite (the package ships them so tests can import them)."""

# The password every test fixture user gets.
PASSWORD = "correct horse battery staple"  # noqa: S105
