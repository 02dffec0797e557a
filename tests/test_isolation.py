"""Workspace isolation, proven for every URL of the project.

Every URL pattern is classified: public (explicit allow-list), API (proven in tests/api/),
workspace-scoped (first URL argument `ws`) or account-level (no URL arguments at all). An
owner of workspace A must get 404, never 403 or a page, for anything of workspace B: with
B's slug, and with A's slug but B's object ids. A new URL is covered as soon as it exists;
one that fits no class fails here until someone decides what it is.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.timezone import now

from tribu.api.models import ApiToken
from tribu.core.models import Invitation, Membership
from tribu.core.roles import Role
from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, Source, Topic
from tribu.listening.services.ingest import ingest_items

# Pages anyone may open without a workspace (or that protect themselves, like the admin).
PUBLIC_NAMES = {
    "healthz",
    "accounts:login",
    "accounts:login_code",
    "accounts:logout",
    "accounts:set_language",
    "accounts:password_reset",
    "accounts:password_reset_sent",
    "accounts:password_reset_confirm",
    "core:invitation_accept",
    "publishing:client_approval",  # a client's approval link: the token is the key
    "publishing:ics",  # the calendar's ICS feed: the secret token in the address is the key
    "publishing:short_link",  # public redirect: the code is the key
    "channels:public_media",  # a post's image for Instagram/Threads: the signed token is the key
}
# Account-level URLs may carry these values (not objects): a network's OAuth callback.
ACCOUNT_VALUES = {"network": "linkedin"}
PUBLIC_PREFIXES = ("admin/", "media/", "static/")
API_PREFIX = "api/"


@dataclass
class Route:
    route: str
    name: str | None
    kwargs: list  # URL argument names, in order of appearance
    callback: object

    def url(self, **kwargs):
        return reverse(self.name, kwargs=kwargs)


def _kwarg_names(pattern):
    converters = getattr(pattern.pattern, "converters", None)
    if converters is not None and str(pattern.pattern).find("<") >= 0:
        return list(converters)
    groups = pattern.pattern.regex.groupindex
    return sorted(groups, key=groups.get)


def all_routes(resolver=None, prefix="", namespace="", inherited=()):
    """Every URL pattern of the project, with its full route, namespaced name and kwargs."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        names = [*inherited, *_kwarg_names(entry)]
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from all_routes(entry, route, inner, names)
        elif isinstance(entry, URLPattern):
            # Fixed default arguments (document_root of the media view) are not URL parts.
            names = [name for name in names if name not in (entry.default_args or {})]
            full_name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(route, full_name, names, entry.callback)


def classify(route):
    if route.kwargs[:1] == ["ws"]:
        return "workspace"
    if route.route.startswith(API_PREFIX):
        return "api"
    if route.name in PUBLIC_NAMES or route.route.startswith(PUBLIC_PREFIXES):
        return "public"
    if not route.kwargs or set(route.kwargs) <= set(ACCOUNT_VALUES):
        return "account"
    return None


def workspace_routes():
    routes = [route for route in all_routes() if classify(route) == "workspace"]
    unnamed = [route.route for route in routes if not route.name]
    assert not unnamed, f"Give these workspace URL patterns a name: {unnamed}"
    return routes


# Objects of a workspace, one factory per URL argument name: (workspace, acting user) →
# (the URL value, the object or None). The acting user may not be a member (isolation).


def _user():
    return get_user_model().objects.create(email=f"u-{secrets.token_hex(5)}@example.com")


def _member(workspace, actor):
    membership = Membership.objects.create(workspace=workspace, user=_user(), role=Role.VIEWER)
    return membership.id, membership


def _invitation(workspace, actor):
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=f"i-{secrets.token_hex(5)}@example.com",
        role=Role.VIEWER,
        token_hash=secrets.token_hex(32),
        expires_at=now() + timedelta(days=7),
    )
    return invitation.id, invitation


def _token(workspace, actor):
    # The actor's own token when they belong to the workspace (tokens.manage covers one's
    # own tokens); otherwise an owner's.
    member = Membership.objects.filter(workspace=workspace, user=actor).exists()
    user = actor if member else workspace.memberships.filter(role=Role.OWNER).first().user
    token = ApiToken.objects.create(
        workspace=workspace,
        user=user,
        name="script",
        role=Role.VIEWER,
        prefix=secrets.token_hex(4),
        token_hash=secrets.token_hex(32),
    )
    return token.id, token


def _source(workspace, actor):
    # Paused, so that "poll now" never reaches the network from these tests.
    source = Source.objects.create(
        workspace=workspace,
        kind=Source.Kind.FEED,
        name=f"feed {secrets.token_hex(3)}",
        url=f"https://{secrets.token_hex(4)}.example.invalid/feed.xml",
        paused_at=now(),
        paused_reason="test",
    )
    return source.id, source


def _topic(workspace, actor):
    topic = Topic.objects.create(
        workspace=workspace, name=f"topic {secrets.token_hex(3)}", query="tribu"
    )
    return topic.id, topic


def _mention(workspace, actor):
    token = secrets.token_hex(4)
    report = ingest_items(
        workspace.id,
        [ParsedItem(url=f"https://example.com/{token}", title=f"Tribu {token}", text=token)],
    )
    mention = Mention.objects.get(pk=report.mention_ids[0])
    return mention.id, mention


def _notification(workspace, actor):
    # The actor's own notification when they belong to the workspace (one only opens one's
    # own); otherwise an owner's.
    from tribu.notifications.models import Notification

    member = Membership.objects.filter(workspace=workspace, user=actor).exists()
    user = actor if member else workspace.memberships.filter(role=Role.OWNER).first().user
    notification = Notification.objects.create(
        workspace=workspace, user=user, kind="notifications.test", url="/"
    )
    return notification.id, notification


def _webhook(workspace, actor):
    from tribu.notifications.models import Webhook

    webhook = Webhook.objects.create(
        workspace=workspace, name="hook", url="https://hooks.example.invalid/x"
    )
    return webhook.id, webhook


def _author(workspace, actor):
    from tribu.listening.models import Author

    author = Author.objects.create(
        workspace=workspace, network="mastodon", key=secrets.token_hex(4)
    )
    return author.id, author


def _alert(workspace, actor):
    from tribu.alerts.models import Alert

    topic = Topic.objects.create(
        workspace=workspace, name=f"Alerted {secrets.token_hex(3)}", query="alerte"
    )
    alert = Alert.objects.create(
        workspace=workspace, topic=topic, kind="volume", sensitivity="normal",
        window_start=now() - timedelta(hours=1), window_end=now(),
        explanation={"kind": "volume", "topic": topic.name, "observed": 20, "expected": 2},
    )  # fmt: skip
    return alert.id, alert


def _post(workspace, actor):
    from tribu.channels.models import Channel
    from tribu.publishing.models import Post, PostVariant

    channel = Channel.objects.create(
        workspace=workspace, network="mastodon", name="Isolation", account_id=secrets.token_hex(4),
        base_url="https://mastodon.example.invalid",
    )  # fmt: skip
    post = Post.objects.create(workspace=workspace, text=f"Post {secrets.token_hex(3)}")
    PostVariant.objects.create(post=post, channel=channel)
    return post.id, post


def _delivery(workspace, actor):
    # Held as too late: every decision on it is possible, none reaches a network.
    from tribu.publishing.models import Delivery, HoldReason, PostStatus

    _post_id, post = _post(workspace, actor)
    post.status = PostStatus.SCHEDULED
    post.save(update_fields=["status"])
    delivery = Delivery.objects.create(
        workspace=workspace, post=post, channel=post.variants.get().channel, state="held",
        hold_reason=HoldReason.LATE, due_at=now() - timedelta(hours=3),
        next_attempt_at=now() - timedelta(hours=3),
    )  # fmt: skip
    return delivery.id, delivery


def _channel(workspace, actor):
    from tribu.channels.models import Channel

    channel = Channel.objects.create(
        workspace=workspace, network="mastodon", name=f"channel {secrets.token_hex(3)}",
        account_id=secrets.token_hex(4), base_url="https://mastodon.example.invalid",
    )  # fmt: skip
    return channel.id, channel


def _slot(workspace, actor):
    from datetime import time

    from tribu.publishing.models import QueueSlot

    _channel_id, channel = _channel(workspace, actor)
    slot = QueueSlot.objects.create(channel=channel, weekday=1, at_time=time(9))
    return slot.id, slot


def _ritual(workspace, actor):
    from datetime import time

    from tribu.publishing.models import Ritual

    ritual = Ritual.objects.create(
        workspace=workspace, name=f"ritual {secrets.token_hex(3)}", rule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=now().date(), at_time=time(9),
    )  # fmt: skip
    return ritual.id, ritual


FACTORIES = {
    "member_id": _member,
    "invitation_id": _invitation,
    "token_id": _token,
    "source_id": _source,
    "topic_id": _topic,
    "mention_id": _mention,
    "alert_id": _alert,
    "author_id": _author,
    "notification_id": _notification,
    "webhook_id": _webhook,
    "channel_id": _channel,
    "slot_id": _slot,
    "post_id": _post,
    "delivery_id": _delivery,
    "ritual_id": _ritual,
    # Not an object: the network a connect page is for (the same in every workspace).
    "network": lambda workspace, actor: ("linkedin", None),
}


def build_kwargs(route, workspace, actor, slug=None):
    """URL arguments naming objects of `workspace`; `slug` overrides the ws argument."""
    values, objects = {"ws": slug or workspace.slug}, []
    for name in route.kwargs[1:]:
        if name not in FACTORIES:
            pytest.fail(f"{route.route}: add a factory for {name} in tests/test_isolation.py")
        value, obj = FACTORIES[name](workspace, actor)
        values[name] = value
        if obj is not None:
            objects.append(obj)
    return values, objects


# Tests ---------------------------------------------------------------------------------


def test_every_url_pattern_is_classified():
    unclassified = [route.route for route in all_routes() if classify(route) is None]
    assert not unclassified, (
        "These URL patterns are neither workspace-scoped (first argument `ws`), account-level "
        "(no arguments), API, nor in PUBLIC_NAMES of tests/test_isolation.py. Put them under "
        f"w/<slug:ws>/ or decide that they are public: {unclassified}"
    )


def test_the_enumeration_sees_the_known_pages():
    names = {route.name for route in all_routes()}
    assert {"core:members", "core:member_role", "core:audit", "accounts:login"} <= names


def test_account_level_pages_need_a_signed_in_user(db):
    client = Client()
    for route in all_routes():
        if classify(route) != "account":
            continue
        response = client.get(reverse(route.name, kwargs={
            name: ACCOUNT_VALUES[name] for name in route.kwargs
        }))  # fmt: skip
        assert response.status_code in (302, 405), (
            f"{route.route} answers {response.status_code} to an anonymous visitor: require "
            "sign-in, or add its name to PUBLIC_NAMES in tests/test_isolation.py"
        )
        if response.status_code == 302:
            assert response.url.startswith(reverse("accounts:login")), route.route


@pytest.fixture
def two_workspaces(make_workspace, make_user):
    owner_a = make_user()
    owner_b = make_user()
    return owner_a, make_workspace(owner=owner_a), make_workspace(owner=owner_b)


def test_owner_of_a_gets_404_for_everything_of_b(two_workspaces, client_for):
    owner_a, workspace_a, workspace_b = two_workspaces
    client = client_for(owner_a)
    problems, checked = [], 0
    for route in workspace_routes():
        for method in ("get", "post"):
            kwargs, objects = build_kwargs(route, workspace_b, owner_a)
            response = getattr(client, method)(route.url(**kwargs))
            checked += 1
            if response.status_code != 404:
                problems.append(
                    f"{method.upper()} {route.url(**kwargs)} ({route.name}) answered "
                    f"{response.status_code} to the owner of another workspace"
                )
            for obj in objects:
                obj.refresh_from_db()  # still there: the request did nothing
            if not objects:
                continue  # no object in the URL (at most a value such as a network's name)
            # A's slug, but B's objects: the look-up must be scoped to the workspace.
            kwargs, objects = build_kwargs(route, workspace_b, owner_a, slug=workspace_a.slug)
            response = getattr(client, method)(route.url(**kwargs))
            if response.status_code != 404:
                problems.append(
                    f"{method.upper()} {route.url(**kwargs)} ({route.name}) answered "
                    f"{response.status_code} for another workspace's object under the member's "
                    "own workspace"
                )
            for obj in objects:
                obj.refresh_from_db()
    assert not problems, (
        "Another workspace's pages and objects must answer 404 (check membership before "
        "anything else: @workspace_view outermost, then look objects up through "
        "request.workspace):\n" + "\n".join(problems)
    )
    assert checked >= 10
