"""Instagram professional accounts (Instagram API with Facebook Login, docs/networks.md §5).

Connecting. The same Facebook Login as Facebook Pages (meta.py, `app_key = "meta"`): each
Page of the user that is linked to an Instagram professional account
(`instagram_business_account`) gives one Account, kind "profile", handle `@username`. Its
secret is the Page's token, which the Instagram calls accept and which does not expire (see
facebook.py). A pasted token may be a Page token or a user token; `account_id` may name the
Instagram account or its Page.

Publishing goes through containers, each id saved in the stage before the next call:

1. the content is checked first (caption of 2,200 characters at most, 1 to 10 JPEG images:
   tribu.publishing.text), so a post Instagram would refuse costs no call;
2. the publishing quota is read (`GET /{ig-id}/content_publishing_limit`): over it, the
   attempt waits an hour (Meta does not say when its rolling 24-hour window frees a slot);
3. Instagram downloads each image from Tribu itself (`http.public_media_url`, a signed link
   valid 24 hours): one image is one container (`image_url`, `caption`, `alt_text`); a
   carousel is one child per image (`is_carousel_item=true`, each with its `alt_text`), then
   the parent (`media_type=CAROUSEL`, `children`, `caption`) once every child is FINISHED;
4. the container is polled (`status_code`) until FINISHED, waiting `container_poll_delays`
   between polls; still IN_PROGRESS after them: the attempt is retried later, keeping the
   containers; ERROR: the post needs a fix (Meta's words are shown); EXPIRED (not published
   within 24 hours): the containers are created again, once per attempt;
5. `POST /{ig-id}/media_publish?creation_id=` gives the media id (saved), then
   `GET /{media-id}?fields=permalink` the post's address;
6. the first comment: `POST /{media-id}/comments` (needs `instagram_manage_comments`, which
   Tribu asks for in addition to the publishing scopes).

Exactly once. Instagram has no idempotency key, but a container is published at most once:
Meta refuses a second `media_publish` of it. When `media_publish` gets no answer, or an error,
the client reads the container once: PUBLISHED means the post went out (its media id is then
found among the account's latest media by caption). Otherwise a lost answer stays `unknown`
and `find()` reads the container again later: PUBLISHED → Published, anything else →
NotFound (publishing again creates new containers; the old one can no longer go out once
the reconciler has cleared the stage, since nothing publishes it).

A refused first comment does not fail a post that is online (see facebook.py).
"""

import time
from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext as _

from tribu.channels.networks import http, meta
from tribu.channels.networks.base import (
    Account,
    Client,
    ErrorKind,
    NotFound,
    Published,
    PublishError,
)
from tribu.channels.networks.facebook import (
    SCOPES as FACEBOOK_SCOPES,
)
from tribu.channels.networks.facebook import (
    content_problems,
    graph_time,
    same_text,
)
from tribu.channels.networks.graph import bad_answer, graph_error

NETWORK = "instagram"
SERVICE = "Instagram"
WEB = "https://www.instagram.com"
# Facebook's scopes (the Page list and its token) plus Instagram's. `instagram_manage_comments`
# is not in the publishing minimum, but `POST /{media-id}/comments` (the first comment)
# needs it.
SCOPES = (
    *FACEBOOK_SCOPES,
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
)
IG_FIELDS = "id,username,name,profile_picture_url"
PAGE_FIELDS = f"id,name,access_token,instagram_business_account{{{IG_FIELDS}}}"
# Waits between polls of a container (about a minute and a half in all); Meta processes an
# image in seconds, a carousel a little longer.
CONTAINER_POLL_DELAYS = (1, 2, 3, 5, 5, 10, 10, 15, 15, 30)
# Over the publishing quota: Meta does not say when its rolling 24-hour window frees a slot,
# so an hour, the conservative wait.
PUBLISH_LIMIT_WAIT = 3600
FIND_SLACK = timedelta(minutes=5)
FIND_PAGE_SIZE = 10

IN_PROGRESS, FINISHED, PUBLISHED, ERROR, EXPIRED = (
    "IN_PROGRESS",
    "FINISHED",
    "PUBLISHED",
    "ERROR",
    "EXPIRED",
)


def ig_account(page, ig):
    """The Account of the Instagram account `ig` linked to `page` (with its Page token)."""
    username = str(ig.get("username") or ig["id"])
    return Account(
        account_id=str(ig["id"]),
        handle=f"@{username}",
        name=str(ig.get("name") or username),
        avatar_url=str(ig.get("profile_picture_url") or ""),
        account_kind="profile",
        secrets={"access_token": str(page["access_token"]), "page_id": str(page["id"])},
        token_expires_at=None,  # a Page token from a long-lived user token does not expire
        consent_expires_at=None,
    )


def linked(page):
    """The Instagram account linked to a Page ({"id", "username", …}), or None."""
    ig = page.get("instagram_business_account")
    return ig if isinstance(ig, dict) and ig.get("id") else None


class InstagramClient(Client):
    network = NETWORK
    service_name = SERVICE
    app_key = meta.APP_KEY
    # A container goes out once, but after a lost answer Tribu still looks (find()) rather
    # than re-sending: the reconciler may have replaced the containers meanwhile.
    idempotent = False
    container_poll_delays = CONTAINER_POLL_DELAYS

    # --- OAuth -------------------------------------------------------------------------
    @classmethod
    def authorization_url(cls, app, redirect_uri, state, code_challenge):
        # No PKCE for a server app's Facebook Login (meta.py): the challenge is not sent.
        return meta.dialog_url(app, redirect_uri, state, SCOPES)

    @classmethod
    def exchange_code(cls, app, redirect_uri, code, code_verifier, *, timeout=None):
        return meta.exchange_code(app, redirect_uri, code, service=SERVICE, timeout=timeout)

    @classmethod
    def accounts(cls, app, grant, *, timeout=None):
        pages = meta.pages(
            app.api_url, grant["access_token"], PAGE_FIELDS, service=SERVICE, timeout=timeout
        )
        return [
            ig_account(page, linked(page))
            for page in pages
            if linked(page) and page.get("access_token")
        ]

    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        credentials = credentials or {}
        token = str(credentials.get("access_token") or "").strip()
        account_id = str(credentials.get("account_id") or "").strip()
        if not token:
            raise PublishError(
                ErrorKind.REAUTH,
                "token_missing",
                _("Paste an access token of the Facebook Page linked to the Instagram account."),
                sent=False,
            )
        node, kind = meta.me(base_url, token, "id,name", service=SERVICE, timeout=timeout)
        if kind == "page":
            query = urlencode({"fields": f"id,name,instagram_business_account{{{IG_FIELDS}}}"})
            page = meta.request(
                "GET", base_url, f"me?{query}", service=SERVICE, token=token, timeout=timeout
            )
            pages = [{**page, "access_token": token}]
        else:
            user_token = meta.pasted_user_token(token, service=SERVICE, timeout=timeout)
            pages = meta.pages(base_url, user_token, PAGE_FIELDS, service=SERVICE, timeout=timeout)
        candidates = [
            {
                "id": str(linked(page)["id"]),
                "name": "@" + str(linked(page).get("username") or linked(page)["id"]),
                "ids": {str(linked(page)["id"]), str(page["id"])},
                "page": page,
            }
            for page in pages
            if linked(page) and page.get("access_token")
        ]
        if not candidates:
            raise PublishError(
                ErrorKind.FATAL,
                "no_instagram_account",
                _(
                    "No Instagram professional account is linked to %(pages)s. In Instagram, "
                    "switch the account to a professional (business or creator) account and "
                    "link it to the Facebook Page, then connect again."
                )
                % {
                    "pages": ", ".join(str(page.get("name") or page["id"]) for page in pages)
                    or _("the Facebook Pages of this account")
                },
            )
        chosen = meta.choose(candidates, account_id, SERVICE)
        return ig_account(chosen["page"], linked(chosen["page"]))

    # --- helpers -----------------------------------------------------------------------
    @property
    def secrets(self):
        return self.channel.secret_values or {}

    @property
    def ig_id(self):
        return str(self.channel.account_id)

    @property
    def base_url(self):
        return self.channel.base_url or meta.app().api_url

    @property
    def profile_url(self):
        username = str(self.channel.handle or "").lstrip("@")
        return f"{WEB}/{username}/" if username else WEB

    def call(self, method, path, *, log, timeout=None, **kwargs):
        return meta.call(
            method,
            self.base_url,
            path,
            service=SERVICE,
            token=self.secrets.get("access_token") or "",
            timeout=self.timeout or timeout or http.TIMEOUT,
            log=log,
            **kwargs,
        )

    def request(self, method, path, *, log, creates_post=False, **kwargs):
        result = self.call(method, path, log=log, creates_post=creates_post, **kwargs)
        return meta.answer(result, SERVICE, meta.label(method, path), creates_post=creates_post)

    # --- publish -----------------------------------------------------------------------
    def publish(self, content, *, idempotency_key, stage, save_stage):
        content_problems(content, getattr(self.channel, "limits", None), NETWORK)
        stage = dict(stage or {})
        log = []
        try:
            if not stage.get("media_id"):
                self.publish_media(content, stage, save_stage, log)
            if not stage.get("media_id"):
                # Published (the container says so) but not among the latest media: the
                # address of the profile is the best Tribu can give.
                return Published(remote_id="", url=self.profile_url, requests=log)
            if not stage.get("url"):
                stage["url"] = self.permalink(stage["media_id"], log)
            warnings = meta.add_first_comment(
                self, stage["media_id"], content, stage, save_stage, log
            )
        except PublishError as error:
            error.requests = list(log)  # for the delivery log
            raise
        return Published(
            remote_id=stage["media_id"], url=stage["url"], requests=log, warnings=warnings
        )

    def publish_media(self, content, stage, save_stage, log):
        """Containers, then media_publish: sets stage["media_id"] (or finds the post
        published by an earlier attempt)."""
        quota_checked = False
        for _round in range(2):  # a second round only when the containers expired
            container = stage.get("container")
            if not container:
                if not quota_checked:
                    self.check_quota(log)
                    quota_checked = True
                container = self.create_containers(content, stage, save_stage, log)
                if container is None:
                    continue  # a carousel child expired: start again
            state = self.wait(container, log)
            if state == PUBLISHED:
                self.found_published(content, stage, save_stage, log)
                return
            if state == EXPIRED:
                self.forget_containers(stage, save_stage)
                continue
            if not quota_checked:
                self.check_quota(log)
                quota_checked = True
            if self.publish_container(container, content, stage, save_stage, log) != EXPIRED:
                return
            self.forget_containers(stage, save_stage)
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "container_expired",
            _("Instagram let the prepared post expire twice in a row. Tribu will try again later."),
            retry_after=300,
        )

    def forget_containers(self, stage, save_stage):
        stage.pop("container", None)
        stage.pop("children", None)
        save_stage(dict(stage))

    def check_quota(self, log):
        """Refuse to go on when the account's 24-hour publishing quota is used up."""
        path = f"{self.ig_id}/content_publishing_limit?fields=quota_usage,config"
        data = self.request("GET", path, log=log)
        entries = data.get("data")
        entry = entries[0] if isinstance(entries, list) and entries else None
        if not isinstance(entry, dict):
            return  # unreadable: media_publish itself refuses over the quota (2207042)
        usage = entry.get("quota_usage")
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        total = config.get("quota_total")
        if not all(
            isinstance(value, int) and not isinstance(value, bool) for value in (usage, total)
        ):
            return
        if usage < total:
            return
        duration = config.get("quota_duration")
        hours = duration // 3600 if isinstance(duration, int) and duration >= 3600 else 24
        raise PublishError(
            ErrorKind.RETRY_LATER,
            "publishing_limit",
            _(
                "This Instagram account already published %(usage)s posts through apps in "
                "the last %(hours)s hours, Instagram's limit. Tribu will try again in an hour; "
                "to publish sooner, publish fewer posts on this account today."
            )
            % {"usage": usage, "hours": hours},
            retry_after=PUBLISH_LIMIT_WAIT,
            sent=False,
            request=meta.label("GET", path),
        )

    def create_containers(self, content, stage, save_stage, log):
        """The container to publish (single image, or carousel parent), each id saved in
        the stage at once. None when a carousel child expired (children forgotten)."""
        media = content.media
        if len(media) == 1:
            fields = self.image_fields(media[0])
            if content.text:
                fields["caption"] = content.text
            stage["container"] = self.create_container(fields, log)
            save_stage(dict(stage))
            return stage["container"]
        children = [str(child) for child in stage.get("children") or []]
        for item in media[len(children) :]:
            children.append(
                self.create_container({**self.image_fields(item), "is_carousel_item": "true"}, log)
            )
            stage["children"] = list(children)
            save_stage(dict(stage))
        for child in children:
            if self.wait(child, log) == EXPIRED:
                self.forget_containers(stage, save_stage)
                return None
        fields = {"media_type": "CAROUSEL", "children": ",".join(children)}
        if content.text:
            fields["caption"] = content.text
        stage["container"] = self.create_container(fields, log)
        save_stage(dict(stage))
        return stage["container"]

    def image_fields(self, item):
        fields = {"image_url": http.public_media_url(item, SERVICE)}
        alt = str(item.get("alt") or "").strip()
        if alt:
            fields["alt_text"] = alt
        return fields

    def create_container(self, fields, log):
        path = f"{self.ig_id}/media"
        result = self.call("POST", path, form=fields, log=log, timeout=http.UPLOAD_TIMEOUT)
        data = meta.answer(result, SERVICE, meta.label("POST", path))
        if not data.get("id"):
            raise bad_answer(result, SERVICE, meta.label("POST", path))
        return str(data["id"])

    def container_status(self, container, log):
        """(status_code, status) of a container."""
        path = f"{container}?fields=status_code,status"
        result = self.call("GET", path, log=log)
        data = meta.answer(result, SERVICE, meta.label("GET", container))
        code = data.get("status_code")
        if code not in (IN_PROGRESS, FINISHED, PUBLISHED, ERROR, EXPIRED):
            raise bad_answer(result, SERVICE, meta.label("GET", container))
        return code, str(data.get("status") or "")

    def wait(self, container, log):
        """Poll a container until it is no longer IN_PROGRESS: FINISHED, PUBLISHED or
        EXPIRED. ERROR asks for a fix; too long, a later attempt."""
        delays = list(self.container_poll_delays)
        while True:
            code, status = self.container_status(container, log)
            if code == ERROR:
                raise PublishError(
                    ErrorKind.FIX_CONTENT,
                    "media_error",
                    _(
                        "Instagram could not prepare this post (%(detail)s). Check the images "
                        "(JPEG, between portrait 4:5 and landscape 1.91:1, 8 MB at most), then "
                        "publish again."
                    )
                    % {"detail": status or _("no details")},
                    detail=status,
                    request=meta.label("GET", container),
                )
            if code != IN_PROGRESS:
                return code
            if not delays:
                raise PublishError(
                    ErrorKind.RETRY_LATER,
                    "media_processing",
                    _(
                        "Instagram is still preparing the images of this post. Tribu will try "
                        "again in a moment, without sending them again."
                    ),
                    retry_after=60,
                    request=meta.label("GET", container),
                )
            time.sleep(delays.pop(0))

    def publish_container(self, container, content, stage, save_stage, log):
        """media_publish. Returns FINISHED when the media id is saved, PUBLISHED when an
        earlier request had published it, EXPIRED when the container must be created
        again."""
        path = f"{self.ig_id}/media_publish?" + urlencode({"creation_id": container})
        name = meta.label("POST", path)
        try:
            result = self.call("POST", path, log=log, creates_post=True)
        except PublishError as error:
            return self.settle(container, error, content, stage, save_stage, log)
        if result.status != 200:
            error = graph_error(result, SERVICE, name)
            if error.kind in (ErrorKind.REAUTH, ErrorKind.RETRY_LATER):
                raise error
            return self.settle(container, error, content, stage, save_stage, log)
        data = result.json()
        if not isinstance(data, dict) or not data.get("id"):
            error = bad_answer(result, SERVICE, name, creates_post=True)
            return self.settle(container, error, content, stage, save_stage, log)
        stage["media_id"] = str(data["id"])
        save_stage(dict(stage))
        return FINISHED

    def settle(self, container, error, content, stage, save_stage, log):
        """After media_publish failed or got no answer: read the container once. Published:
        the post is out. Expired (and refused, not lost): create it again. Otherwise the
        error stands (a lost answer stays unknown, for find())."""
        try:
            code, _status = self.container_status(container, log)
        except PublishError:
            raise error from None
        if code == PUBLISHED:
            self.found_published(content, stage, save_stage, log)
            return PUBLISHED
        if code == EXPIRED and error.kind != ErrorKind.UNKNOWN:
            return EXPIRED
        raise error

    def found_published(self, content, stage, save_stage, log):
        """The container is PUBLISHED: find its media id among the latest media."""
        media = self.locate(content, log, cutoff=timezone.now() - timedelta(hours=25), newest=True)
        if media is not None:
            stage["media_id"] = str(media["id"])
            if media.get("permalink"):
                stage["url"] = str(media["permalink"])
            save_stage(dict(stage))

    def locate(self, content, log, *, cutoff, newest):
        """The account's media with this caption published after `cutoff` (the newest or the
        oldest of them), or None."""
        query = urlencode({"fields": "id,caption,timestamp,permalink", "limit": FIND_PAGE_SIZE})
        data = self.request("GET", f"{self.ig_id}/media?{query}", log=log)
        entries = data.get("data")
        matches = []
        for media in entries if isinstance(entries, list) else []:
            if not isinstance(media, dict) or not media.get("id"):
                continue
            moment = graph_time(media.get("timestamp"))
            if moment and moment >= cutoff and same_text(media.get("caption"), content.text):
                matches.append((moment, media))
        if not matches:
            return None
        pick = max if newest else min
        return pick(matches, key=lambda match: match[0])[1]

    def permalink(self, media_id, log):
        try:
            data = self.request("GET", f"{media_id}?fields=permalink", log=log)
        except PublishError:
            return self.profile_url
        url = data.get("permalink")
        return str(url) if isinstance(url, str) and url.startswith("https://") else self.profile_url

    # --- find --------------------------------------------------------------------------
    def find(self, content, *, stage, since):
        log = []
        stage = stage or {}
        if stage.get("media_id"):
            url = stage.get("url") or self.permalink(stage["media_id"], log)
            return Published(remote_id=str(stage["media_id"]), url=url, requests=log)
        cutoff = since - FIND_SLACK
        container = stage.get("container")
        if container:
            code, _status = self.container_status(container, log)
            if code != PUBLISHED:
                # Never published, and nothing will publish it now: safe to publish again.
                return NotFound(requests=log)
            media = self.locate(content, log, cutoff=cutoff, newest=False)
            if media is None:
                return Published(remote_id="", url=self.profile_url, requests=log)
            return Published(
                remote_id=str(media["id"]),
                url=str(media.get("permalink") or self.profile_url),
                requests=log,
            )
        if not (content.text or "").strip():
            # No container saved: media_publish never left (it needs one).
            return NotFound(requests=log)
        media = self.locate(content, log, cutoff=cutoff, newest=False)
        if media is None:
            return NotFound(requests=log)
        return Published(
            remote_id=str(media["id"]),
            url=str(media.get("permalink") or self.profile_url),
            requests=log,
        )
