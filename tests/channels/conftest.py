import pytest


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """The fakes listen on 127.0.0.1, which the SSRF guard refuses unless allowed."""
    settings.TRIBU_ALLOW_PRIVATE_ADDRESSES = True
