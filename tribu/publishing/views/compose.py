"""The composer: write a post once, adapt it per channel, see it as each network will count
and show it, and save it (by hand or automatically) before sending it for review,
scheduling it or publishing it now.

The page works without JavaScript (every button is a plain form submission). With it, htmx
posts the form while the writer types: to `validate` (counts, problems, editorial line and
the previews, 400 ms after the last keystroke) and to `autosave` (a few seconds after the
last change, drafts only). The first autosave of a new post creates the draft; the response
carries the new addresses and composer.js points the form at them.

A hidden `draft_key` (random, per page) remembers which draft a new composer created, so a
"Save draft" racing the first autosave updates that draft instead of creating a second one.
"""

import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import regex
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_htmx.http import trigger_client_event

from tribu.channels.models import Network
from tribu.core.access import can, workspace_view
from tribu.listening.fetch.http import FetchError, Limits, fetch
from tribu.publishing import editorial
from tribu.publishing import text as network_text
from tribu.publishing.forms import ComposeForm
from tribu.publishing.models import Post, PostMedia, PostStatus
from tribu.publishing.services import posts as service
from tribu.publishing.services.deliveries import STARTED_STATES, settings_for
from tribu.publishing.services.posts import PostError

W = "w/<slug:ws>/publishing/"
DRAFT_KEY_SECONDS = 24 * 60 * 60
# The link card fetch runs inside a web request: small and quick, or no preview.
CARD_LIMITS = Limits(max_bytes=1024 * 1024, max_seconds=5.0, connect_timeout=3.0, max_redirects=3)


def _post(request, post_id):
    return get_object_or_404(Post, pk=post_id, workspace=request.workspace)


def editable(post):
    """Whether the composer may change the post: not published, nothing sent yet."""
    if post.status == PostStatus.PUBLISHED:
        return False
    return not post.deliveries.filter(state__in=STARTED_STATES).exists()


# What the form says --------------------------------------------------------------------------


@dataclass
class Draft:
    """The post as the form describes it, valid fields only (`present` names them)."""

    title: str = ""
    text: str = ""
    thread: list = field(default_factory=list)
    first_comment: str = ""
    publish_at: object = None
    channels: list = field(default_factory=list)
    variants: dict = field(default_factory=dict)  # channel id → own text, or None
    link_card: dict = field(default_factory=dict)
    present: set = field(default_factory=set)

    def text_for(self, channel):
        own = self.variants.get(channel.pk)
        return self.text if own is None else own

    @property
    def empty(self):
        parts = [self.text, self.title, self.first_comment, *self.thread]
        return not (self.channels or any(part.strip() for part in parts))


def draft_from(form):
    """Read a bound ComposeForm (after is_valid()), keeping what is valid."""
    form.is_valid()
    draft = Draft()
    for name in ("title", "text", "first_comment", "publish_at", "channels", "link_card"):
        if name in form.cleaned_data:
            draft.present.add(name)
    draft.title = form.value_of("title", "") or ""
    draft.text = (form.value_of("text", "") or "").replace("\r\n", "\n")
    draft.first_comment = (form.value_of("first_comment", "") or "").replace("\r\n", "\n")
    draft.publish_at = form.value_of("publish_at")
    draft.channels = list(form.value_of("channels", []) or [])
    draft.thread = [part for part in form.thread_parts() if part.strip()]
    draft.present.add("thread")
    for channel in draft.channels:
        custom = form.value_of(f"custom_{channel.pk}", False)
        own = (form.value_of(f"variant_{channel.pk}", "") or "").replace("\r\n", "\n")
        draft.variants[channel.pk] = own if custom and own != draft.text else None
    card = form.value_of("link_card", {}) or {}
    # A card is kept only while its link is still the text's first one.
    draft.link_card = card if card.get("url") and card["url"] == first_url(draft.text) else {}
    return draft


def first_url(text):
    spans = network_text.find_urls(text or "")
    if not spans:
        return ""
    start, end = spans[0]
    return text[start:end]


# Previews -------------------------------------------------------------------------------------

# How each network shows a link in a post: some shorten the address they display.
LINK_DISPLAY_LENGTH = {Network.MASTODON: 30, Network.X: 26}
BLUESKY_MENTION_RE = regex.compile(
    r"(?<![\p{L}\p{N}_@.])@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)+",
    regex.IGNORECASE,
)
X_MENTION_RE = regex.compile(r"(?<![\p{L}\p{N}_@])@[A-Za-z0-9_]{1,15}")


@dataclass
class Segment:
    kind: str  # text, link, tag, mention
    text: str
    href: str = ""


def _display_link(network, url):
    shown = url.split("://", 1)[-1]
    if shown.startswith("www."):
        shown = shown[4:]
    limit = LINK_DISPLAY_LENGTH.get(network)
    if limit and len(shown) > limit:
        shown = shown[:limit] + "…"
    return shown


def _mentions(network, text):
    if network == Network.MASTODON:
        return [m.span() for m in network_text.MASTODON_MENTION_RE.finditer(text)]
    if network == Network.BLUESKY:
        return [m.span() for m in BLUESKY_MENTION_RE.finditer(text)]
    if network == Network.X:
        return [m.span() for m in X_MENTION_RE.finditer(text)]
    if network in (Network.INSTAGRAM, Network.THREADS):
        return [m.span() for m in network_text.INSTAGRAM_MENTION_RE.finditer(text)]
    return []  # LinkedIn and Facebook need the account's id to mention: plain text here


def segments(network, text):
    """`text` cut into plain runs, links, hashtags and mentions, as `network` shows them:
    Instagram links are not clickable, LinkedIn shows hashtags and @names as plain text
    (text.linkedin_escape), X links bare domains, Mastodon and X shorten long links."""
    text = text or ""
    entities = []
    if network != Network.INSTAGRAM:
        for start, end in network_text.find_urls(text, bare_domains=network == Network.X):
            url = text[start:end]
            href = url if "://" in url else f"https://{url}"
            entities.append((start, end, Segment("link", _display_link(network, url), href)))
    if network != Network.LINKEDIN:
        urls = [(s, e) for s, e, _seg in entities]
        for start, end, _tag in network_text.find_hashtags(text, urls=urls or None):
            entities.append((start, end, Segment("tag", text[start:end])))
        for start, end in _mentions(network, text):
            entities.append((start, end, Segment("mention", text[start:end])))
    entities.sort(key=lambda entity: entity[0])
    result, position = [], 0
    for start, end, segment in entities:
        if start < position:
            continue  # overlapping: the first one wins, as the networks do
        if start > position:
            result.append(Segment("text", text[position:start]))
        result.append(segment)
        position = end
    if position < len(text):
        result.append(Segment("text", text[position:]))
    return result


def media_items(media_rows):
    return [
        {"url": item.file.url, "alt": item.alt_text, "width": item.width, "height": item.height}
        for item in media_rows
    ]


def preview(channel, *, text, thread, first_comment, media, link_card):
    """What the post will look like on `channel`, for _preview.html."""
    network = channel.network
    threads = network in network_text.THREAD_NETWORKS
    parts = [segments(network, text)]
    if threads:
        parts += [segments(network, part) for part in thread if part.strip()]
    card = None
    # Networks show a link card only when the post has no image.
    if link_card.get("url") and not media and network != Network.INSTAGRAM:
        host = (urlsplit(link_card["url"]).hostname or "").removeprefix("www.")
        card = dict(link_card, host=host)
    return {
        "channel": channel,
        "network": network,
        "initial": (channel.name or "?")[:1].upper(),
        "parts": parts,
        "first_comment": segments(network, first_comment) if first_comment.strip()
        and not threads else None,
        "media": media,
        "link_card": card,
    }  # fmt: skip


def previews_for_post(post):
    """Previews of a saved post on each of its channels."""
    media = media_items(post.media.all())
    return [
        preview(
            variant.channel,
            text=variant.effective_text,
            thread=variant.effective_thread or [],
            first_comment=variant.effective_first_comment or "",
            media=media,
            link_card=post.link_card or {},
        )
        for variant in post.variants.select_related("channel", "post")
    ]


# Live validation ------------------------------------------------------------------------------


def _media_dicts(media_rows, form=None):
    items = []
    for item in media_rows:
        alt = item.alt_text
        if form is not None and f"alt_{item.pk}" in getattr(form, "cleaned_data", {}):
            if form.cleaned_data.get(f"remove_{item.pk}"):
                continue
            alt = form.cleaned_data[f"alt_{item.pk}"]
        items.append({"content_type": item.content_type, "size": item.size_bytes,
                      "width": item.width, "height": item.height, "alt": alt,
                      "url": item.file.url})  # fmt: skip
    return items


def checks(workspace, draft, media):
    """Per selected channel: the count as the network counts, its problems, the editorial
    line's warnings for a text of its own, and the preview."""
    settings = settings_for(workspace)
    items = []
    for channel in draft.channels:
        own_text = draft.text_for(channel)
        limits = channel.limits or None
        problems = network_text.validate(channel.network, text=own_text, thread=draft.thread,
                                         first_comment=draft.first_comment, media=media,
                                         limits=limits)  # fmt: skip
        parts = []
        if channel.network in network_text.THREAD_NETWORKS:
            for number, part in enumerate(draft.thread, start=2):
                parts.append((number, network_text.count(channel.network, part, limits=limits)))
        items.append(
            {
                "channel": channel,
                "count": network_text.count(channel.network, own_text, limits=limits),
                "parts": parts,
                "errors": [p for p in problems if p.severity == network_text.ERROR],
                "warnings": [p for p in problems if p.severity != network_text.ERROR],
                "editorial": editorial.check(own_text, settings)
                if draft.variants.get(channel.pk) is not None else [],
                "preview": preview(channel, text=own_text, thread=draft.thread,
                                   first_comment=draft.first_comment, media=media,
                                   link_card=draft.link_card),
            }
        )  # fmt: skip
    return {
        "items": items,
        "editorial": editorial.check(draft.text, settings),
        "tone": settings.editorial_tone,
        "missing_hashtags": editorial.missing_hashtags(draft.text, settings),
    }


@workspace_view("content.draft")
def validate(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    post = _posted_post(request)
    form = ComposeForm(request.POST, workspace=request.workspace, post=post)
    draft = draft_from(form)
    media = _media_dicts(form.media_rows, form)
    return render(request, "publishing/_validation.html", checks(request.workspace, draft, media))


def _posted_post(request):
    try:
        post_id = int(request.POST.get("post_id") or 0)
    except ValueError:
        return None
    if not post_id:
        return None
    return Post.objects.filter(workspace=request.workspace, pk=post_id).first()


# Saving ---------------------------------------------------------------------------------------


def _changes(draft):
    changes = {}
    for name in ("title", "text", "first_comment", "publish_at", "link_card"):
        if name in draft.present or name == "link_card":
            changes[name] = getattr(draft, name)
    changes["thread"] = draft.thread
    if "channels" in draft.present:
        changes["channels"] = [channel.pk for channel in draft.channels]
        changes["variants"] = dict(draft.variants)
    return changes


def _differs(post, changes):
    """Whether saving `changes` would change the post (autosave skips empty saves, which
    would only add lines to the audit log)."""
    for name in ("title", "text", "first_comment", "publish_at", "link_card", "thread"):
        if name in changes and changes[name] != getattr(post, name):
            return True
    if "channels" in changes:
        current = {v.channel_id: v.text for v in post.variants.all()}
        wanted = {
            pk: (None if own is None or own == changes.get("text", post.text) else own)
            for pk, own in changes["variants"].items()
        }
        if current != wanted:
            return True
    return False


def _remembered(request, key):
    if not key:
        return None
    post_id = cache.get(_draft_cache_key(request, key))
    if post_id is None:
        return None
    return Post.objects.filter(workspace=request.workspace, pk=post_id).first()


def _draft_cache_key(request, key):
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"publishing:draft:{request.workspace.pk}:{request.user.pk}:{digest}"


def write(request, post, draft):
    """Create the post or apply the draft to it; returns (post, created)."""
    role = request.membership.role
    changes = _changes(draft)
    if post is None:
        post = service.create_post(
            request.workspace, request.user, role, text=draft.text, title=draft.title,
            channels=changes.get("channels", []), publish_at=draft.publish_at,
            thread=draft.thread, first_comment=draft.first_comment,
            variants=changes.get("variants", {}), request=request,
        )  # fmt: skip
        if draft.link_card:
            post = service.update_post(post, request.user, role, request=request,
                                       link_card=draft.link_card)  # fmt: skip
        key = request.POST.get("draft_key", "")
        if key:
            cache.set(_draft_cache_key(request, key), post.pk, DRAFT_KEY_SECONDS)
        return post, True
    if _differs(post, changes):
        post = service.update_post(post, request.user, role, request=request, **changes)
    return post, False


def media_editable(post):
    """Images are not part of a post's revision (services/posts.py), so changing them after
    a review started would let an approval cover images nobody saw: they change while the
    post is a draft, or in a workspace without approvals."""
    if post is None or post.status == PostStatus.DRAFT:
        return True
    return not settings_for(post.workspace).require_approval


def _media_changes(form):
    removed = [item for item in form.media_rows if form.cleaned_data.get(f"remove_{item.pk}")]
    alts = {}
    for item in form.media_rows:
        name = f"alt_{item.pk}"
        # A page without the field (images locked) leaves the description alone.
        if item in removed or name not in form.data or name not in form.cleaned_data:
            continue
        if form.cleaned_data[name] != item.alt_text:
            alts[item.pk] = form.cleaned_data[name]
    return form.cleaned_data.get("image"), removed, alts


def save_media(post, form):
    image, removed, alts = _media_changes(form)
    for item in removed:
        item.file.delete(save=False)
        item.delete()
    for item in form.media_rows:
        if item.pk in alts:
            PostMedia.objects.filter(pk=item.pk, post=post).update(alt_text=alts[item.pk])
    if image is not None:
        info = image.image_info
        last = post.media.order_by("-position").values_list("position", flat=True).first()
        PostMedia.objects.create(
            post=post, file=image, alt_text=form.cleaned_data.get("image_alt", ""),
            content_type=info["content_type"], size_bytes=info["size"], width=info["width"],
            height=info["height"], position=0 if last is None else last + 1,
        )  # fmt: skip


def add_post_error(form, error):
    """A service refusal next to the field it is about; content problems per channel."""
    if error.problems:
        form.content_problems = list(error.problems)
        return
    target = error.field if error.field in form.fields else None
    form.add_error(target, error.message)


ACTIONS = ("save", "submit", "schedule", "publish_now")


def _save(request, post):
    form = ComposeForm(request.POST, request.FILES, workspace=request.workspace, post=post)
    action = request.POST.get("action", "save")
    action = action if action in ACTIONS else "save"
    if post is None:
        post = _remembered(request, request.POST.get("draft_key", ""))
        if post is not None:
            form = ComposeForm(request.POST, request.FILES, workspace=request.workspace,
                               post=post)  # fmt: skip
    if not form.is_valid():
        return _page(request, form, post, status=400)
    draft = draft_from(form)
    if post is None and draft.empty:
        form.add_error(
            "text", _("Write the post or choose a channel first: there is nothing to save.")
        )
        return _page(request, form, post, status=400)
    if action == "schedule" and draft.publish_at is None:
        form.add_error(
            "publish_at", _("Choose the date and time to publish, or use “Publish now”.")
        )
        return _page(request, form, post, status=400)
    image, removed, alts = _media_changes(form)
    if (image is not None or removed or alts) and not media_editable(post):
        form.add_error(
            "image",
            _(
                "Images can only change while the post is a draft, since the approval covers "
                "them. Ask for changes to bring it back to draft, or duplicate the post."
            ),
        )
        return _page(request, form, post, status=400)
    try:
        post, _created = write(request, post, draft)
        save_media(post, form)
    except PostError as error:
        add_post_error(form, error)
        return _page(request, form, post, status=400)
    role = request.membership.role
    try:
        if action == "submit":
            service.submit(post, request.user, role, request=request)
        elif action == "schedule":
            service.schedule(post, request.user, role, request=request)
        elif action == "publish_now":
            service.schedule(post, request.user, role, publish_at=timezone.now(),
                             request=request)  # fmt: skip
    except PostError as error:
        post.refresh_from_db()
        form = ComposeForm(_data_after_save(request, post), workspace=request.workspace,
                           post=post)  # fmt: skip
        form.is_valid()
        add_post_error(form, error)
        return _page(request, form, post, status=400)
    post.refresh_from_db()
    messages.success(request, result_message(action, post))
    if action == "save":
        return redirect("publishing:edit", request.workspace.slug, post.pk)
    return redirect("publishing:post", request.workspace.slug, post.pk)


def _data_after_save(request, post):
    """The submitted data, re-read for a page that shows the saved post with an error: the
    new image is now one of the post's images, with its description."""
    data = request.POST.copy()
    for item in post.media.all():
        data.setdefault(f"alt_{item.pk}", item.alt_text)
    data.pop("image_alt", None)
    return data


def result_message(action, post):
    when = ""
    if post.publish_at is not None:
        when = date_format(timezone.localtime(post.publish_at), "SHORT_DATETIME_FORMAT")
    if action == "save":
        return _("Draft saved.")
    if post.status == PostStatus.SCHEDULED:
        if action == "publish_now":
            return _("The post is on its way: it is published within a few seconds.")
        return _("Scheduled for %(when)s.") % {"when": when}
    if post.status == PostStatus.IN_REVIEW:
        return _("Sent for review. It is scheduled once approved; reviewers have been notified.")
    return _("Saved.")


# Pages ----------------------------------------------------------------------------------------


def _initial(post):
    initial = {
        "title": post.title,
        "text": post.text,
        "first_comment": post.first_comment,
        "publish_at": post.publish_at,
        "channels": [variant.channel_id for variant in post.variants.all()],
        "link_card": json.dumps(post.link_card) if post.link_card else "",
    }
    for variant in post.variants.all():
        initial[f"custom_{variant.channel_id}"] = variant.text is not None
        initial[f"variant_{variant.channel_id}"] = variant.effective_text
    for item in post.media.all():
        initial[f"alt_{item.pk}"] = item.alt_text
    return initial


def _page(request, form, post, status=200):
    workspace = request.workspace
    settings = settings_for(workspace)
    role_can_schedule = can(request, "content.schedule")
    status_value = post.status if post is not None else PostStatus.DRAFT
    draft = draft_from(form) if form.is_bound else _draft_of(post, form)
    media = _media_dicts(form.media_rows, form if form.is_bound else None)
    link_card = draft.link_card or (post.link_card if post is not None else {})
    context = {
        "form": form,
        "post": post,
        "thread_parts": form.thread_parts(),
        "selected": {str(value) for value in form["channels"].value() or ()},
        "draft_key": request.POST.get("draft_key") or secrets.token_urlsafe(16),
        "action_url": reverse("publishing:edit", args=[workspace.slug, post.pk])
        if post is not None else reverse("publishing:compose", args=[workspace.slug]),
        "autosave_url": reverse("publishing:autosave", args=[workspace.slug, post.pk])
        if post is not None else reverse("publishing:autosave_new", args=[workspace.slug]),
        "autosave_on": status_value == PostStatus.DRAFT,
        "channels_url": reverse("channels:list", args=[workspace.slug]),
        "require_approval": settings.require_approval,
        "show_submit": status_value == PostStatus.DRAFT
        and (settings.require_approval or not role_can_schedule),
        "show_schedule": role_can_schedule
        and status_value in (PostStatus.DRAFT, PostStatus.APPROVED),
        "reopens": settings.require_approval
        and status_value in (PostStatus.APPROVED, PostStatus.SCHEDULED),
        "media_editable": media_editable(post),
        "link_card": link_card,
        "link_card_json": json.dumps(link_card) if link_card else "",
        "content_problems": grouped_problems(getattr(form, "content_problems", [])),
        **checks(workspace, draft, media),
    }  # fmt: skip
    return render(request, "publishing/compose.html", context, status=status)


def _draft_of(post, form):
    draft = Draft()
    if post is None:
        initial = form.initial
        draft.publish_at = initial.get("publish_at")
        draft.channels = [c for c in form.channel_rows if c.pk in set(initial.get("channels", ()))]
        return draft
    draft.title, draft.text = post.title, post.text
    draft.thread, draft.first_comment = list(post.thread or []), post.first_comment
    draft.publish_at, draft.link_card = post.publish_at, dict(post.link_card or {})
    for variant in post.variants.select_related("channel"):
        draft.channels.append(variant.channel)
        draft.variants[variant.channel_id] = variant.text
    return draft


def grouped_problems(problems):
    """PostError.problems as (channel name or "", [messages]) in order. The service gives
    sentences that already name their channel; (channel, Problem) pairs and Problems are
    read too."""
    groups = {}
    for item in problems:
        channel, problem = item if isinstance(item, tuple) else ("", item)
        name = str(getattr(channel, "name", channel) or "")
        groups.setdefault(name, []).append(str(getattr(problem, "message", problem)))
    return list(groups.items())


@workspace_view("content.draft")
def compose(request):
    if request.method == "POST":
        return _save(request, None)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    form = ComposeForm(workspace=request.workspace)
    initial = {}
    # The calendar may open the composer on a slot (?at=2026-03-10T09:00) or for a channel.
    if request.GET.get("at"):
        # A bad slot in the address opens the composer without a time.
        with contextlib.suppress(ValidationError):
            initial["publish_at"] = form.fields["publish_at"].clean(request.GET["at"])
    wanted = set(request.GET.getlist("channel"))
    initial["channels"] = [c.pk for c in form.channel_rows if str(c.pk) in wanted]
    form = ComposeForm(workspace=request.workspace, initial=initial)
    return _page(request, form, None)


@workspace_view("content.draft")
def edit(request, post_id):
    post = _post(request, post_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if not editable(post):
        messages.info(
            request,
            _(
                "This post is published (or being published) on at least one channel: it can "
                "no longer be edited. Duplicate it to publish a new version."
            ),
        )
        return redirect("publishing:post", request.workspace.slug, post.pk)
    if request.method == "POST":
        return _save(request, post)
    form = ComposeForm(workspace=request.workspace, post=post, initial=_initial(post))
    return _page(request, form, post)


# Autosave -------------------------------------------------------------------------------------


def _autosave(request, post):
    if post is not None and (post.status != PostStatus.DRAFT or not editable(post)):
        return _autosave_status(
            request,
            error=_(
                "Not saved automatically: this post is %(status)s. Use the save button to keep "
                "your changes."
            )
            % {"status": post.get_status_display().lower()},
            status=409,
        )
    form = ComposeForm(request.POST, workspace=request.workspace, post=post)
    draft = draft_from(form)
    if post is None and draft.empty:
        return _autosave_status(request, note=_("Nothing to save yet."))
    try:
        post, created = write(request, post, draft)
    except PostError as error:
        return _autosave_status(request, error=error.message, status=422)
    response = _autosave_status(request, saved_at=timezone.localtime(post.updated_at))
    if created:
        slug = request.workspace.slug
        trigger_client_event(
            response,
            "tribu:draft-created",
            {
                "post_id": post.pk,
                "edit_url": reverse("publishing:edit", args=[slug, post.pk]),
                "autosave_url": reverse("publishing:autosave", args=[slug, post.pk]),
            },
        )
    return response


def _autosave_status(request, *, saved_at=None, error="", note="", status=200):
    context = {"saved_at": saved_at, "error": error, "note": note}
    return render(request, "publishing/_autosave_status.html", context, status=status)


@workspace_view("content.draft")
def autosave(request, post_id):
    post = _post(request, post_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return _autosave(request, post)


@workspace_view("content.draft")
def autosave_new(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return _autosave(request, _remembered(request, request.POST.get("draft_key", "")))


# Link card ------------------------------------------------------------------------------------

CARD_KEYS = {
    "og:title": "title",
    "twitter:title": "title",
    "og:description": "description",
    "twitter:description": "description",
    "description": "description",
    "og:image": "image",
    "og:image:url": "image",
    "twitter:image": "image",
}


def parse_card(url, result):
    """The OpenGraph card of an HTML page (falling back on <title> and the description), or
    None when the page has nothing to show."""
    content_type = result.headers.get("content-type", "")
    if "html" not in content_type.lower() or not result.body:
        return None
    try:
        document = lxml.html.document_fromstring(result.body)
    except (ValueError, lxml.etree.ParserError):
        return None
    found = {}
    for meta in document.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        value = " ".join((meta.get("content") or "").split())
        if key in CARD_KEYS and value and CARD_KEYS[key] not in found:
            found[CARD_KEYS[key]] = value
    if "title" not in found:
        title = document.findtext(".//title")
        if title and title.strip():
            found["title"] = " ".join(title.split())
    if "title" not in found:
        return None
    image = urljoin(result.url, found.get("image", "")) if found.get("image") else ""
    if urlsplit(image).scheme not in ("http", "https"):
        image = ""
    return {
        "url": url,
        "title": found["title"][:300],
        "description": found.get("description", "")[:1000],
        "image": image[:1000],
    }


def fetch_card(url):
    """(card, reason): the card, or None and why there is no preview."""
    try:
        result = fetch(url, limits=CARD_LIMITS, headers={"Accept": "text/html"})
    except FetchError as error:
        if error.status:  # the fetcher's words are about feeds polled again later
            return None, _("The page answered with an error (%(status)s).") % {
                "status": error.status
            }
        return None, error.message
    if result.status >= 400:
        return None, _("The page answered with an error (%(status)s).") % {"status": result.status}
    card = parse_card(url, result)
    if card is None:
        return None, _("The page has no title or description to show.")
    return card, ""


@workspace_view("content.draft")
def link_card(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    url = first_url(request.POST.get("text", ""))
    card, reason = None, ""
    if not url:
        reason = _("There is no link in the text.")
    else:
        card, reason = fetch_card(url)
    post = _posted_post(request)
    if card and post is not None and post.status == PostStatus.DRAFT and editable(post):
        try:
            service.update_post(post, request.user, request.membership.role, request=request,
                                link_card=card)  # fmt: skip
        except PostError as error:
            reason = error.message
    response = render(
        request,
        "publishing/_link_card.html",
        {"link_card": card or {}, "link_card_json": json.dumps(card) if card else "",
         "reason": reason, "fetched": True},
    )  # fmt: skip
    # The previews show the card: composer.js asks for a fresh validation.
    return trigger_client_event(response, "tribu:link-card", {})


urlpatterns = [
    path(f"{W}posts/new/", compose, name="compose"),
    path(f"{W}posts/new/autosave/", autosave_new, name="autosave_new"),
    path(f"{W}posts/<int:post_id>/edit/", edit, name="edit"),
    path(f"{W}posts/<int:post_id>/autosave/", autosave, name="autosave"),
    path(f"{W}compose/validate/", validate, name="validate"),
    path(f"{W}compose/link-card/", link_card, name="link_card"),
]
