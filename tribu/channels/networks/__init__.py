"""One module per network, behind the interface in base.py. `client_for(channel)` picks it."""

from importlib import import_module

CLIENTS = {
    "mastodon": "tribu.channels.networks.mastodon.MastodonClient",
    "bluesky": "tribu.channels.networks.bluesky.BlueskyClient",
    "linkedin": "tribu.channels.networks.linkedin.LinkedInClient",
    "facebook": "tribu.channels.networks.facebook.FacebookClient",
    "instagram": "tribu.channels.networks.instagram.InstagramClient",
    "x": "tribu.channels.networks.x.XClient",
    "threads": "tribu.channels.networks.threads.ThreadsClient",
}


def client_class(network):
    path = CLIENTS.get(network)
    if path is None:
        raise LookupError(f"No client for the network {network!r}")
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def client_for(channel, *, on_secrets=None, timeout=None):
    """The client of a Channel row. Its token refreshes are serialized on the channel
    (services.channels.refresh_lock)."""
    from tribu.channels.services.channels import refresh_lock

    return client_class(channel.network)(
        channel, on_secrets=on_secrets, timeout=timeout, refresh_lock=refresh_lock(channel)
    )


def supported(network):
    return network in CLIENTS
