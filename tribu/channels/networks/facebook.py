"""Facebook Pages (Graph API, docs/networks.md §4): connect a Page, publish, find a post again.

Connecting. Facebook Login through the operator's Meta app (`app_key = "meta"`, shared with
Instagram; meta.py): the long-lived user token lists the user's Pages (`GET /me/accounts`)
and each Page where the user may create content (task CREATE_CONTENT) becomes an Account
whose secret is the **Page token** (posting with the user token is refused, or posts as the
user). A Page token obtained from a long-lived user token does not expire, so nothing is
refreshed: it dies only on a password change, a role removed or the app removed, which
answers 190 (reconnect). A pasted token (`connect()`) may be a Page token (`GET /me` is then
the Page) or a user token (its Pages are listed, `account_id` picks one).

Publishing, each server-side id saved in the stage before the next call (the Graph has no
idempotency):

- text, or a link: `POST /{page-id}/feed` with `message`, and `link` (the link card's
  address, else the first address in the text, for Facebook's preview);
- one image: `POST /{page-id}/photos` (multipart `source`, `message`, `published=true`);
  the answer's `post_id` is the post;
- several images: each `POST /{page-id}/photos` with `published=false` (its id saved in the
  stage at once, so a resumed attempt never uploads it again), then `POST /{page-id}/feed`
  with `attached_media[i]={"media_fbid": id}`;
- the post's address is read back (`GET /{post-id}?fields=permalink_url`), falling back to
  `https://www.facebook.com/{page-id}_{post-id}` (which Facebook redirects to the post);
- the first comment: `POST /{post-id}/comments` as the Page.

Alt text: the photo's `alt_text_custom` (the Photo node's field for custom alt text; the
upload parameter is **unverified** in networks.md).

A refused first comment (too long, not allowed) does not fail a post that is online:
publishing again would post it twice. The refused request stays in the delivery log.

`find()` (after a lost answer, or Facebook's duplicate refusal 506): the stage's post id when
it was saved, else the Page's latest posts (`GET /{page-id}/published_posts`) compared by
text and time.
"""

import json
import os
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import urllib3
from django.utils.translation import gettext as _

from tribu.channels.networks import http, meta
from tribu.channels.networks.base import (
    Account,
    CannotTell,
    Client,
    ErrorKind,
    NotFound,
    Published,
    PublishError,
)
from tribu.channels.networks.graph import bad_answer

NETWORK = "facebook"
SERVICE = "Facebook"
WEB = "https://www.facebook.com"
SCOPES = (
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "business_management",
)
PAGE_FIELDS = "id,name,access_token,picture,tasks"
# The Page task that allows publishing (Meta's "create content" role).
PUBLISH_TASK = "CREATE_CONTENT"
FIND_SLACK = timedelta(minutes=5)  # Facebook's clock and ours differ a little
FIND_PAGE_SIZE = 10
FIND_MAX_PAGES = 3


def page_account(page):
    """The Account of one Page from /me/accounts (or /me with a Page token)."""
    return Account(
        account_id=str(page["id"]),
        handle=str(page.get("name") or page["id"]),
        name=str(page.get("name") or page["id"]),
        avatar_url=meta.picture_url(page),
        account_kind="page",
        secrets={"access_token": str(page["access_token"]), "page_id": str(page["id"])},
        # A Page token from a long-lived user token never expires; nothing to refresh.
        token_expires_at=None,
        consent_expires_at=None,
    )


def publishable(page):
    tasks = page.get("tasks")
    return (
        bool(page.get("access_token"))
        and isinstance(tasks, list)
        and PUBLISH_TASK in [str(task) for task in tasks]
    )


def content_problems(content, limits, network=NETWORK):
    """The errors tribu.publishing.text finds in the content (what the network would
    refuse), as one PublishError raised before any call."""
    from tribu.publishing.text import ERROR, validate

    problems = [
        problem
        for problem in validate(
            network,
            text=content.text,
            thread=content.thread,
            first_comment=content.first_comment,
            media=content.media,
            limits=limits,
        )
        if problem.severity == ERROR
    ]
    if problems:
        raise PublishError(
            ErrorKind.FIX_CONTENT,
            problems[0].code,
            " ".join(problem.message for problem in problems),
            sent=False,
        )


def graph_time(value):
    """A Graph time ("2026-11-21T11:29:55+0000") as an aware datetime, or None."""
    try:
        moment = datetime.strptime(str(value or ""), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return moment.astimezone(UTC)


def same_text(left, right):
    return " ".join(str(left or "").split()) == " ".join(str(right or "").split())


def first_link(content):
    """The address Facebook should preview: the link card's, else the text's first URL."""
    url = str((content.link_card or {}).get("url") or "")
    if url:
        return url
    from tribu.publishing.text import find_urls

    spans = find_urls(content.text or "")
    return content.text[spans[0][0] : spans[0][1]] if spans else ""


class FacebookClient(Client):
    network = NETWORK
    service_name = SERVICE
    app_key = meta.APP_KEY
    idempotent = False  # the Graph has no idempotency: a lost answer is looked for

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
        return [page_account(page) for page in pages if publishable(page)]

    @classmethod
    def connect(cls, base_url, credentials, *, timeout=None):
        credentials = credentials or {}
        token = str(credentials.get("access_token") or "").strip()
        account_id = str(credentials.get("account_id") or "").strip()
        if not token:
            raise PublishError(
                ErrorKind.REAUTH,
                "token_missing",
                _("Paste a Facebook access token (a Page token, or a user token)."),
                sent=False,
            )
        node, kind = meta.me(base_url, token, "id,name,picture", service=SERVICE, timeout=timeout)
        if kind == "page":
            page = {**node, "access_token": token}
            meta.choose(
                [
                    {
                        "id": str(node["id"]),
                        "name": str(node.get("name") or ""),
                        "ids": {str(node["id"])},
                    }
                ],
                account_id,
                SERVICE,
            )
            return page_account(page)
        user_token = meta.pasted_user_token(token, service=SERVICE, timeout=timeout)
        pages = [
            page
            for page in meta.pages(
                base_url, user_token, PAGE_FIELDS, service=SERVICE, timeout=timeout
            )
            if publishable(page)
        ]
        if not pages:
            raise PublishError(
                ErrorKind.FATAL,
                "no_pages",
                _(
                    "This Facebook account manages no Page where it may publish. Ask an admin "
                    "of the Page to give it the right to create content, then connect again, "
                    "granting Tribu access to that Page."
                ),
            )
        candidates = [
            {
                "id": str(page["id"]),
                "name": str(page.get("name") or ""),
                "ids": {str(page["id"])},
                "page": page,
            }
            for page in pages
        ]
        return page_account(meta.choose(candidates, account_id, SERVICE)["page"])

    # --- helpers -----------------------------------------------------------------------
    @property
    def secrets(self):
        return self.channel.secret_values or {}

    @property
    def page_id(self):
        return str(self.secrets.get("page_id") or self.channel.account_id)

    @property
    def base_url(self):
        return self.channel.base_url or meta.app().api_url

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

    def created_id(self, data, result_path, field="id"):
        value = data.get(field)
        if not value:
            raise PublishError(
                ErrorKind.UNKNOWN,
                "bad_answer",
                _(
                    "Facebook accepted the post but its answer has no id, so it may already "
                    "be published. Tribu will check before publishing again."
                ),
                request=meta.label("POST", result_path),
            )
        return str(value)

    # --- publish -----------------------------------------------------------------------
    def publish(self, content, *, idempotency_key, stage, save_stage):
        content_problems(content, getattr(self.channel, "limits", None))
        stage = dict(stage or {})
        log = []
        try:
            if not stage.get("post_id"):
                stage["post_id"] = self.create_post(content, stage, save_stage, log)
                save_stage(dict(stage))
            if not stage.get("url"):
                stage["url"] = self.permalink(stage["post_id"], log)
            warnings = meta.add_first_comment(
                self, stage["post_id"], content, stage, save_stage, log
            )
        except PublishError as error:
            error.requests = list(log)  # for the delivery log
            raise
        return Published(
            remote_id=stage["post_id"], url=stage["url"], requests=log, warnings=warnings
        )

    def create_post(self, content, stage, save_stage, log):
        if len(content.media) == 1:
            return self.post_photo(content, content.media[0], log)
        photo_ids = self.upload_photos(content.media, stage, save_stage, log)
        form = {}
        if content.text:
            form["message"] = content.text
        if photo_ids:
            for index, photo_id in enumerate(photo_ids):
                form[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        else:
            link = first_link(content)
            if link:
                form["link"] = link
        path = f"{self.page_id}/feed"
        data = self.request("POST", path, form=form, log=log, creates_post=True)
        return self.created_id(data, path)

    def photo_body(self, item, **fields):
        data = http.read_media(item, meta.label("POST", f"{self.page_id}/photos"))
        name = os.path.basename(item.get("path") or "") or "image"
        parts = {"source": (name, data, item.get("content_type") or "application/octet-stream")}
        alt = str(item.get("alt") or "").strip()
        if alt:
            parts["alt_text_custom"] = alt
        parts.update(fields)
        return urllib3.encode_multipart_formdata(parts)

    def post_photo(self, content, item, log):
        """One image: the photo is the post; its `post_id` is the post's id."""
        fields = {"published": "true"}
        if content.text:
            fields["message"] = content.text
        body, content_type = self.photo_body(item, **fields)
        path = f"{self.page_id}/photos"
        data = self.request(
            "POST",
            path,
            body=body,
            content_type=content_type,
            timeout=http.UPLOAD_TIMEOUT,
            log=log,
            creates_post=True,
        )
        return self.created_id(data, path, "post_id")

    def upload_photos(self, media, stage, save_stage, log):
        """Unpublished photos for a multi-photo post; each id saved before the next call."""
        photo_ids = [str(photo_id) for photo_id in stage.get("photo_ids") or []]
        path = f"{self.page_id}/photos"
        for item in media[len(photo_ids) :]:
            body, content_type = self.photo_body(item, published="false")
            result = self.call(
                "POST",
                path,
                body=body,
                content_type=content_type,
                timeout=http.UPLOAD_TIMEOUT,
                log=log,
            )
            data = meta.answer(result, SERVICE, meta.label("POST", path))
            if not data.get("id"):
                raise bad_answer(result, SERVICE, meta.label("POST", path))
            photo_ids.append(str(data["id"]))
            stage["photo_ids"] = list(photo_ids)
            save_stage(dict(stage))
        return photo_ids

    def permalink(self, post_id, log):
        """The post's address as Facebook gives it, else the id address it redirects."""
        fallback = f"{WEB}/{post_id}"
        try:
            data = self.request("GET", f"{post_id}?fields=permalink_url", log=log)
        except PublishError:
            return fallback
        url = data.get("permalink_url")
        return str(url) if isinstance(url, str) and url.startswith("https://") else fallback

    # --- find --------------------------------------------------------------------------
    def find(self, content, *, stage, since):
        log = []
        stage = stage or {}
        if stage.get("post_id"):
            url = stage.get("url") or f"{WEB}/{stage['post_id']}"
            return Published(remote_id=str(stage["post_id"]), url=url, requests=log)
        if not (content.text or "").strip():
            return CannotTell(
                reason=_(
                    "This post has no text, so Tribu cannot recognise it among the Page's "
                    "posts. Look at the Page on Facebook: if the post is there, mark it as "
                    "published; otherwise publish it again."
                ),
                requests=log,
            )
        cutoff = since - FIND_SLACK
        matches = []
        query = urlencode(
            {"fields": "id,message,created_time,permalink_url", "limit": FIND_PAGE_SIZE}
        )
        path = f"{self.page_id}/published_posts?{query}"
        api_root = meta.graph_url(self.base_url, "")
        url = meta.graph_url(self.base_url, path)
        for _page in range(FIND_MAX_PAGES):
            result = http.call(
                "GET",
                url,
                service=SERVICE,
                token=self.secrets.get("access_token") or "",
                timeout=self.timeout or http.TIMEOUT,
                log=log,
            )
            data = meta.answer(result, SERVICE, meta.label("GET", path))
            posts = data.get("data")
            if not isinstance(posts, list):
                raise bad_answer(result, SERVICE, meta.label("GET", path))
            oldest = None
            for post in posts:
                if not isinstance(post, dict) or not post.get("id"):
                    continue
                created = graph_time(post.get("created_time"))
                oldest = created if oldest is None or (created and created < oldest) else oldest
                if created and created >= cutoff and same_text(post.get("message"), content.text):
                    matches.append((created, post))
            paging = data.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            if (
                not isinstance(following, str)
                or not following.startswith(api_root)
                or oldest is None
                or oldest < cutoff
            ):
                break
            url = following
        if not matches:
            return NotFound(requests=log)
        _created, post = min(matches, key=lambda match: match[0])
        post_id = str(post["id"])
        permalink = post.get("permalink_url")
        url = permalink if isinstance(permalink, str) and permalink else f"{WEB}/{post_id}"
        return Published(remote_id=post_id, url=url, requests=log)
