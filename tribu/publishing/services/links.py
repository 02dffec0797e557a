"""Short links (`/l/<code>`): links in posts, with UTM parameters per channel and post, and
their clicks with known bots filtered out.

- `shorten()` makes one ShortLink: a random code and the target URL with `utm_source` (the
  channel's network), `utm_medium=social`, `utm_campaign` and `utm_content=post-<id>` added
  or replaced. Other query parameters and the fragment are kept as written.
- `rewrite_links()` replaces every http(s) URL of a text by its short link, reusing the
  ShortLink of the same (post, channel, URL). `apply_short_links()` does it to a delivery's
  frozen content (services/content.py `snapshot()` calls it when the workspace shortens
  links). Short links need a public address: when TRIBU_BASE_URL is empty, or names this
  machine's loopback (the default http://127.0.0.1:8000 of an install that never set it),
  links are left untouched, since readers could not open them.
- `record_click()` counts one visit: bots and link-preview fetchers (BOT_PATTERNS) in
  `bot_clicks`, people in `clicks` and in the ShortLinkDay row of the workspace's local day,
  with F() expressions and an upsert, so concurrent clicks are never lost.
- `stats()` sums a post's links per channel, with their days.
"""

import ipaddress
import logging
import secrets
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

import regex
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tribu.publishing import text as network_text
from tribu.publishing.models import ShortLink, ShortLinkDay

logger = logging.getLogger(__name__)

# URL-safe letters and digits without look-alikes (0/O/o, 1/l/I): 56 symbols, so 8 of them
# give 56⁸ ≈ 10¹⁴ codes, far too many to guess one that exists.
ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_ATTEMPTS = 5
MAX_URL_LENGTH = 2000  # ShortLink.original_url and target_url
UTM_MEDIUM = "social"
DEFAULT_CAMPAIGN = "tribu"
DEFAULT_SOURCE = "tribu"  # a link shortened by hand, for no channel
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")

# Crawlers and link-preview fetchers: a network fetching the page to draw its card is not a
# reader. Matched case-insensitively anywhere in the User-Agent; an empty one is a bot too.
BOT_PATTERNS = (
    r"Slackbot",
    r"Slack-ImgProxy",
    r"Twitterbot",
    r"facebookexternalhit",
    r"facebookcatalog",
    r"meta-externalagent",
    r"LinkedInBot",
    r"Discordbot",
    r"TelegramBot",
    r"WhatsApp",
    r"Googlebot",
    r"bingbot",
    r"Applebot",
    r"Pinterest",
    r"Embedly",
    r"Iframely",
    r"Slurp",
    r"Cardyb",  # Bluesky's card fetcher
    r"Mastodon/.*http\.rb|http\.rb.*Mastodon/",  # "http.rb/5.1.1 (Mastodon/4.2.0; …)"
    r"Pleroma|Akkoma|Misskey",  # other fediverse servers' preview fetchers
    r"bot|crawler|spider|preview|curl|wget|python-requests|Go-http-client",
)
BOT_RE = regex.compile("|".join(f"(?:{pattern})" for pattern in BOT_PATTERNS), regex.IGNORECASE)


class LinkError(Exception):
    """A URL that cannot be shortened; `message` says why and what to do."""

    def __init__(self, message, *, field="url"):
        super().__init__(message)
        self.message = message
        self.field = field


# Codes and URLs -------------------------------------------------------------------------------


def new_code():
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))


def _host_of(url):
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def short_link_host():
    return _host_of(getattr(settings, "TRIBU_BASE_URL", "") or "")


def _is_loopback(host):
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def public_base_url():
    """TRIBU_BASE_URL when readers on the internet can reach it, else "" (see above)."""
    base = (getattr(settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    if not base or _is_loopback(_host_of(base)):
        return ""
    return base


def short_url(link, base=None):
    """The absolute address of a short link (the path alone when there is no base URL)."""
    path = reverse("publishing:short_link", args=[link.code])
    if base is None:
        base = (getattr(settings, "TRIBU_BASE_URL", "") or "").rstrip("/")
    return (base or "") + path


def check_url(url):
    """The URL, stripped, or LinkError when it is not an http(s) address elsewhere."""
    url = (url or "").strip()
    if not url:
        raise LinkError(_("Enter the address to shorten, starting with https://."))
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise LinkError(
            _("Only web addresses can be shortened: start the address with https:// (or http://).")
        )
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise LinkError(
            _("“%(url)s” is not a valid web address. Copy it again from the browser's address bar.")
            % {"url": url[:200]}
        ) from None
    if len(url) > MAX_URL_LENGTH:
        raise LinkError(
            _("The address is too long (%(length)s characters, at most %(maximum)s).")
            % {"length": len(url), "maximum": MAX_URL_LENGTH}
        )
    own = short_link_host()
    if own and _host_of(url) == own:
        raise LinkError(
            _(
                "This address already points to Tribu (%(host)s): a short link to it would "
                "only lead back here. Shorten the address of the page you want to share."
            )
            % {"host": own}
        )
    return url


def _encode(value):
    return quote(str(value), safe="-._~")


def with_utm(url, *, source, campaign, content=None):
    """`url` with our UTM parameters added, or replacing those already there. The rest of
    the query is kept byte for byte (re-encoding it could change what the site reads)."""
    parts = urlsplit(url)
    ours = {
        "utm_source": source,
        "utm_medium": UTM_MEDIUM,
        "utm_campaign": campaign,
    }
    if content:
        ours["utm_content"] = content
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and unquote_plus(piece.split("=", 1)[0]) not in ours
    ]
    kept += [f"{key}={_encode(value)}" for key, value in ours.items()]
    return urlunsplit(parts._replace(query="&".join(kept)))


def _campaign(campaign, post):
    campaign = (campaign or "").strip()
    if campaign:
        return campaign[:100]
    # A ritual's posts share its name as their campaign ("mardi-conseil").
    if post is not None and post.ritual_id:
        return slugify(post.ritual.name)[:100] or DEFAULT_CAMPAIGN
    return DEFAULT_CAMPAIGN


# Shortening -----------------------------------------------------------------------------------


def shorten(workspace, url, *, post=None, channel=None, campaign=""):
    """A new ShortLink of `workspace` for `url` (LinkError when it cannot be shortened)."""
    for owner in (post, channel):
        if owner is not None and owner.workspace_id != workspace.pk:
            raise ValueError("The post and the channel must belong to the link's workspace.")
    url = check_url(url)
    target = with_utm(
        url,
        source=channel.network if channel is not None else DEFAULT_SOURCE,
        campaign=_campaign(campaign, post),
        content=f"post-{post.pk}" if post is not None else None,
    )
    if len(target) > MAX_URL_LENGTH:
        raise LinkError(
            _(
                "The address is too long once the tracking parameters are added: keep it "
                "under %(maximum)s characters."
            )
            % {"maximum": MAX_URL_LENGTH - 150}
        )
    for _attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():  # a savepoint: a taken code does not spoil the caller's
                return ShortLink.objects.create(
                    workspace=workspace,
                    code=new_code(),
                    original_url=url,
                    target_url=target,
                    post=post,
                    channel=channel,
                )
        except IntegrityError:
            continue  # the code was taken (about one chance in 10¹⁴): draw another
    raise LinkError(_("No free short code was found. Try again."))


def link_for(workspace, url, *, post, channel):
    """The ShortLink of (post, channel, url), made the first time."""
    existing = (
        ShortLink.objects.filter(workspace=workspace, post=post, channel=channel, original_url=url)
        .order_by("created_at", "id")
        .first()
    )
    return existing or shorten(workspace, url, post=post, channel=channel)


def rewrite_links(text, workspace, *, post, channel, base=None):
    """`text` with each http(s) URL replaced by its absolute short link. URLs already on
    Tribu's host, and those that cannot be shortened, stay as written. Nothing changes when
    there is no public base URL (see the module's docstring)."""
    base = public_base_url() if base is None else base
    if not base or not text:
        return text
    own = short_link_host()
    pieces, last = [], 0
    for start, end in network_text.find_urls(text):
        url = text[start:end]
        if _host_of(url) == own:
            continue
        try:
            link = link_for(workspace, url, post=post, channel=channel)
        except LinkError:
            continue
        pieces += [text[last:start], short_url(link, base)]
        last = end
    return "".join(pieces) + text[last:]


def _error_codes(network, content, limits):
    problems = network_text.validate(
        network,
        text=content.get("text") or "",
        thread=content.get("thread") or (),
        first_comment=content.get("first_comment") or "",
        media=content.get("media") or (),
        limits=limits,
    )
    return {(p.code, p.part) for p in problems if p.severity == network_text.ERROR}


def apply_short_links(content, delivery, *, enabled):
    """The delivery's content (Content.as_json()) with its links shortened, when `enabled`
    (the workspace's setting) and a public base URL exists; otherwise `content` itself.

    Networks that count URLs in full (Bluesky, LinkedIn…) could find a text with short
    links longer than the one that was validated: when shortening adds a problem, the
    content is published as written."""
    base = public_base_url()
    if not enabled or not base:
        return content
    workspace, post, channel = delivery.workspace, delivery.post, delivery.channel

    def rewrite(value):
        return rewrite_links(value or "", workspace, post=post, channel=channel, base=base)

    limits = channel.limits or None
    with transaction.atomic():  # a savepoint: links of a content kept as written go away
        result = dict(content)
        result["text"] = rewrite(content.get("text"))
        result["thread"] = [rewrite(part) for part in content.get("thread") or []]
        result["first_comment"] = rewrite(content.get("first_comment"))
        card = dict(content.get("link_card") or {})
        if card.get("url"):
            shortened = rewrite(str(card["url"]))
            if shortened != card["url"] and shortened.startswith(base):
                card["url"] = shortened
            result["link_card"] = card
        added = _error_codes(channel.network, result, limits) - _error_codes(
            channel.network, content, limits
        )
        if added:
            transaction.set_rollback(True)
            return content
    return result


# Clicks ---------------------------------------------------------------------------------------


def is_bot(user_agent):
    user_agent = (user_agent or "").strip()
    return not user_agent or BOT_RE.search(user_agent) is not None


def _upsert_day(link_id, day):
    """One more click on the link's day: INSERT … ON CONFLICT DO UPDATE, atomic on SQLite
    and PostgreSQL alike (Django's bulk_create cannot add to the existing count)."""
    quote = connection.ops.quote_name
    table, link, on, clicks = (quote(name) for name in (ShortLinkDay._meta.db_table, "link_id",
                                                         "day", "clicks"))  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({link}, {on}, {clicks}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({link}, {on}) DO UPDATE SET {clicks} = {table}.{clicks} + 1",
            [link_id, day],
        )


def record_click(link, *, user_agent, when=None, bot=None):
    """Count one visit of `link`. `bot` forces the verdict (a HEAD request is no reader);
    by default the User-Agent decides. Returns True when it counted as a person."""
    when = when or timezone.now()
    human = not is_bot(user_agent) if bot is None else not bot
    with transaction.atomic():
        if not human:
            ShortLink.objects.filter(pk=link.pk).update(bot_clicks=F("bot_clicks") + 1)
            return False
        ShortLink.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
        day = timezone.localtime(when, link.workspace.tzinfo).date()
        _upsert_day(link.pk, day)
    return True


# Figures --------------------------------------------------------------------------------------


@dataclass
class LinkStats:
    link: ShortLink
    clicks: int
    bot_clicks: int
    days: list  # [(date, clicks)], oldest first, days with clicks only


@dataclass
class ChannelStats:
    channel: object  # a Channel, or None for links of no channel
    links: list = field(default_factory=list)
    clicks: int = 0
    bot_clicks: int = 0


def stats(post):
    """A post's short links per channel: [ChannelStats], in the order of the post's
    channels, each with its links' clicks, bot clicks and clicks per local day."""
    links = list(
        ShortLink.objects.filter(post=post)
        .select_related("channel")
        .order_by("channel__network", "channel__name", "channel_id", "created_at", "id")
    )
    days = {}
    for row in ShortLinkDay.objects.filter(link__in=links).order_by("day"):
        days.setdefault(row.link_id, []).append((row.day, row.clicks))
    groups = {}
    for link in links:
        group = groups.setdefault(link.channel_id, ChannelStats(channel=link.channel))
        group.links.append(LinkStats(link, link.clicks, link.bot_clicks, days.get(link.pk, [])))
        group.clicks += link.clicks
        group.bot_clicks += link.bot_clicks
    return list(groups.values())
