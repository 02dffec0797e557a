"""Contract fake of LinkedIn's API (member profiles and organization pages), write side,
built from docs/networks.md §3. One server plays both hosts: the sign-in pages
(www.linkedin.com: `/oauth/v2/*`) and the API (api.linkedin.com: `/v2/*`, `/rest/*`), and
serves the image upload URLs it hands out (`/dms-uploads/{id}`).

- OAuth: `GET /oauth/v2/authorization` (the signed-in member approves at once: 302 to the
  redirect URI with `code` and `state`; `deny_next` makes the member cancel, which LinkedIn
  reports as `error=user_cancelled_authorize`; a scope the app may not ask for redirects with
  `error=unauthorized_scope_error`). `POST /oauth/v2/accessToken` (form; client id and secret
  in the body): authorization_code and refresh_token grants. No PKCE (LinkedIn's web apps
  have none): a `code_challenge` is only recorded, so tests can check that none was sent.
  Refresh tokens are issued only when `refresh_tokens` is set (LinkedIn's approved
  partners); a refresh keeps the same refresh token and its end, and the access tokens
  issued before stay valid.
- `GET /v2/userinfo` (openid + profile), `GET /v2/organizationalEntityAcls?q=roleAssignee`
  (rw_organization_admin; `state`, `role`, `start`, `count`), `GET /rest/organizations/{id}`.
- `POST /rest/images?action=initializeUpload`, `PUT /dms-uploads/{id}` (201; bytes that are
  not an image make processing fail), `GET /rest/images/{urn}`: a page's images only; a
  member's images are write-only (403), as LinkedIn's `w_member_social` is. An image is
  WAITING_UPLOAD, then PROCESSING for `processing_polls` reads and `processing_seconds`
  seconds, then AVAILABLE (or PROCESSING_FAILED).
- `POST /rest/posts` → 201 with the URN in `x-restli-id`, and no body; `GET /rest/posts?
  q=author` (pages only: a member's posts need the restricted r_member_social, 403).
- `POST`/`GET /rest/socialActions/{encoded URN}/comments`.

Validation, as LinkedIn answers it: every `/rest/*` call needs `LinkedIn-Version` (missing:
400 VERSION_MISSING; older than `oldest_version` or retired: 426 NONEXISTENT_VERSION) and
`X-Restli-Protocol-Version: 2.0.0` (else 400, the fake's own wording: LinkedIn then parses
the request as Rest.li 1.0 and fails in ways that depend on the request). Tokens: 401 with
LinkedIn's body (65600 invalid, 65601 revoked, 65602 expired, 65604 missing); a missing
scope or role: 403 ACCESS_DENIED. Posts: required fields (`ERROR :: /field :: …` like
LinkedIn's 422), 3,000 characters, images that exist, belong to the author and are
AVAILABLE (else 422 "… is not AVAILABLE (status …)": the wording is the fake's, LinkedIn's
docs only say that such a post fails), 2 to 20 images in `multiImage`, alt text up to 4,086
characters. **Reserved characters**: LinkedIn's "little" text format needs `\\ | { } @ [ ]
( ) < > # * _ ~` escaped with a backslash, else it truncates the text or refuses it; the
fake refuses (422) any unescaped one outside a mention `@[Name](urn:li:…)` or a hashtag
template `{hashtag|\\#|tag}`. Comments: the post URN must be URL-encoded in the path (Rest.li
2.0 keys), `object` must be that post, text up to 1,250 characters.

LinkedIn has no idempotency: the same post sent twice is two posts, which `duplicates()`
reports. Faults come from FakeServer; `error_body()` gives LinkedIn's shape and a 429 has no
rate-limit header (LinkedIn sends none). Extra faults: `publish_without_id(times)` (a 201
without `x-restli-id` and nothing published: "succeeded but nothing appeared"),
`activity_lag` (comments refused with "Unable to obtain activity" that many times),
`revoke_for(token, times)` (REVOKED right after consent, then fine).
"""

import base64
import collections
import io
import itertools
import json
import re
import secrets
import time
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from .server import FakeServer

CLIENT_ID = "tribu-linkedin-app"
CLIENT_SECRET = "tribu-linkedin-secret"  # noqa: S105 (the fake app's secret)
TOKEN = "linkedin-member-token"  # noqa: S105 (the default member's token; benchmarks use it)
MEMBER_ID = "x7Km2pQ9aB"
MEMBER_URN = f"urn:li:person:{MEMBER_ID}"
MEMBER_NAME = "Camille Martin"
ORG_ID = "10001"  # Acme: the member is ADMINISTRATOR
ORG_URN = f"urn:li:organization:{ORG_ID}"
SECOND_ORG_ID = "10002"  # Maison Lumière: CONTENT_ADMIN
SECOND_ORG_URN = f"urn:li:organization:{SECOND_ORG_ID}"
ANALYST_ORG_ID = "10003"  # the member is ANALYST there: may not post
VERSION = "202606"
OLDEST_VERSION = "202507"
RESTLI = "2.0.0"
ACCESS_SECONDS = 60 * 86400
REFRESH_SECONDS = 365 * 86400
CODE_SECONDS = 30 * 60
MAX_CHARACTERS = 3000
MAX_ALT = 4086
MAX_COMMENT = 1250
RESERVED = set("\\|{}@[]()<>#*_~")
POSTING_ROLES = {"ADMINISTRATOR", "CONTENT_ADMIN", "DIRECT_SPONSORED_CONTENT_POSTER"}
DEFAULT_SCOPES = frozenset(
    [
        "openid",
        "profile",
        "w_member_social",
        "r_organization_social",
        "w_organization_social",
        "rw_organization_admin",
    ]
)
# What the fake app may ask for (its LinkedIn products: Sign In with LinkedIn using OpenID
# Connect, Share on LinkedIn, Community Management API).
APP_SCOPES = DEFAULT_SCOPES | {"email", "r_organization_admin", "r_member_postAnalytics"}
MENTION_RE = re.compile(r"@\[[^\[\]]*\]\(urn:li:(?:person|organization):[A-Za-z0-9_-]+\)")
HASHTAG_RE = re.compile(r"\{hashtag\|\\#\|[^{}|]+\}")
VERSION_RE = re.compile(r"^(\d{6})(?:\.\d{2})?$")
INVALID_GRANT = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match "
    "authorization code. Or authorization code expired. Or external member binding exists"
)


def little_text_problem(commentary):
    """Where the commentary breaks the little text format (an unescaped reserved
    character), or None."""
    index = 0
    while index < len(commentary):
        char = commentary[index]
        if char == "\\":
            if index + 1 >= len(commentary):
                return index, char
            index += 2
            continue
        if char == "@":
            match = MENTION_RE.match(commentary, index)
            if match:
                index = match.end()
                continue
        if char == "{":
            match = HASHTAG_RE.match(commentary, index)
            if match:
                index = match.end()
                continue
        if char in RESERVED:
            return index, char
        index += 1
    return None


def unescaped(commentary):
    """The text readers see."""
    text = re.sub(r"@\[([^\[\]]*)\]\(urn:li:[^)]+\)", r"\1", commentary)
    text = re.sub(r"\{hashtag\|\\#\|([^{}|]+)\}", r"#\1", text)
    return re.sub(r"\\(.)", r"\1", text)


def is_image(data):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        return True
    except (UnidentifiedImageError, OSError, ValueError):
        return False


class LinkedInFake(FakeServer):
    network = "linkedin"
    # LinkedIn's word for a member who cancels at the consent screen.
    deny_error = "user_cancelled_authorize"

    def __init__(
        self,
        *,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token=TOKEN,
        refresh_tokens=False,
        oldest_version=OLDEST_VERSION,
    ):
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_tokens = refresh_tokens  # an approved partner's app
        self.oldest_version = oldest_version
        self.retired_versions = set()
        self.redirect_uris = set()  # empty: any redirect URI is registered
        self.app_scopes = set(APP_SCOPES)
        self.deny_next = False
        self.processing_polls = 0
        self.processing_seconds = 0.0
        self.fail_processing_next = False
        self.activity_lag = 0
        self._no_id = 0
        self._offset = 0.0
        self._numbers = itertools.count(7_345_000_000_000_000_001)
        self.members = {}  # id -> userinfo JSON
        self.organizations = {}  # id -> organization JSON
        self.acls = []  # {"roleAssignee", "role", "state", "organizationalTarget"}
        self.tokens = {}  # token -> {"member", "scopes", "expires_at", "revoked"}
        self.refresh_grants = {}  # refresh token -> {"member", "scopes", "expires_at", ...}
        self.revoked_for = {}  # token -> calls still answered REVOKED (propagation)
        self.codes = {}  # code -> {"client_id", "redirect_uri", "scopes", "member", ...}
        self.authorizations = []  # the query of each authorization request
        self.token_requests = []  # the form of each token request
        self.images = {}  # urn -> {"owner", "upload_id", "data", "uploaded", ...}
        self.uploads = {}  # upload id -> image urn
        self.posts = []  # stored posts, oldest first
        self.comments = []
        self.signed_in = MEMBER_ID  # who approves on the authorization page
        self.member = self.add_member(MEMBER_ID, MEMBER_NAME)
        self.add_organization(ORG_ID, "Acme", "acme")
        self.add_organization(SECOND_ORG_ID, "Maison Lumière", "maison-lumiere")
        self.add_organization(ANALYST_ORG_ID, "Café Analyse", "cafe-analyse")
        self.grant_role(MEMBER_ID, ORG_ID, "ADMINISTRATOR")
        self.grant_role(MEMBER_ID, SECOND_ORG_ID, "CONTENT_ADMIN")
        self.grant_role(MEMBER_ID, ANALYST_ORG_ID, "ANALYST")
        self.add_token(token)

    def rules(self):
        return [
            Rule("/oauth/v2/authorization", endpoint="authorize", methods=["GET"]),
            Rule("/oauth/v2/accessToken", endpoint="access_token", methods=["POST"]),
            Rule("/v2/userinfo", endpoint="userinfo", methods=["GET"]),
            Rule("/v2/organizationalEntityAcls", endpoint="acls_finder", methods=["GET"]),
            Rule("/rest/organizations/<org_id>", endpoint="organization", methods=["GET"]),
            Rule("/rest/images", endpoint="images_action", methods=["POST"]),
            Rule("/rest/images/<path:urn>", endpoint="get_image", methods=["GET"]),
            Rule("/dms-uploads/<upload_id>", endpoint="upload", methods=["PUT"]),
            Rule("/rest/posts", endpoint="posts_endpoint", methods=["GET", "POST"]),
            Rule(
                "/rest/socialActions/<path:target>/comments",
                endpoint="comments_endpoint",
                methods=["GET", "POST"],
            ),
        ]

    # --- set-up ----------------------------------------------------------------------
    def now(self):
        return time.time() + self._offset

    def advance(self, seconds):
        """Move the fake's clock (token and code expiries, processing times)."""
        self._offset += seconds

    def next_number(self):
        return next(self._numbers)

    def add_member(self, member_id, name, *, picture=None):
        given, _space, family = name.partition(" ")
        member = {
            "sub": member_id,
            "name": name,
            "given_name": given,
            "family_name": family,
            "picture": picture or f"https://media.licdn.com/dms/image/{member_id}/profile.jpg",
            "locale": {"country": "FR", "language": "fr"},
        }
        with self._lock:
            self.members[member_id] = member
        return member

    def add_organization(self, org_id, name, vanity):
        organization = {
            "id": int(org_id),
            "localizedName": name,
            "vanityName": vanity,
            "name": {"localized": {"fr_FR": name}, "preferredLocale": {"country": "FR",
                                                                       "language": "fr"}},
            "primaryOrganizationType": "NONE",
            "localizedWebsite": f"https://{vanity}.example",
        }  # fmt: skip
        with self._lock:
            self.organizations[str(org_id)] = organization
        return organization

    def grant_role(self, member_id, org_id, role, state="APPROVED"):
        with self._lock:
            self.acls.append(
                {
                    "roleAssignee": f"urn:li:person:{member_id}",
                    "role": role,
                    "state": state,
                    "organizationalTarget": f"urn:li:organization:{org_id}",
                }
            )

    def add_token(self, token, *, member=MEMBER_ID, scopes=DEFAULT_SCOPES, expires_in=None):
        with self._lock:
            self.tokens[token] = {
                "member": member,
                "scopes": set(scopes),
                "expires_at": self.now() + (expires_in or ACCESS_SECONDS),
                "revoked": False,
            }
        return token

    def expire(self, token):
        with self._lock:
            self.tokens[token]["expires_at"] = self.now() - 1

    def revoke(self, token):
        with self._lock:
            if token in self.tokens:
                self.tokens[token]["revoked"] = True
            if token in self.refresh_grants:
                self.refresh_grants[token]["revoked"] = True

    def revoke_for(self, token, times=1):
        """LinkedIn's propagation delay: the next `times` calls with this token answer
        REVOKED_ACCESS_TOKEN, then it works."""
        with self._lock:
            self.revoked_for[token] = times

    def publish_without_id(self, times=1):
        """The next `times` posts answer 201 without `x-restli-id`, and nothing appears."""
        with self._lock:
            self._no_id += times

    # --- for tests and benchmarks ----------------------------------------------------
    def posts_with_text(self, text):
        with self._lock:
            return [post for post in self.posts if post["_text"] == text]

    def duplicates(self):
        """Texts one author posted more than once: what the publisher must never cause."""
        with self._lock:
            counts = collections.Counter((post["author"], post["_text"]) for post in self.posts)
        return sorted(text for (_author, text), count in counts.items() if count > 1)

    def stats(self):
        with self._lock:
            posts, comments = len(self.posts), len(self.comments)
            images = sum(1 for image in self.images.values() if image["uploaded"])
        return {"posts": posts, "comments": comments, "images": images,
                "duplicates": self.duplicates()}  # fmt: skip

    def public(self, post):
        return {key: value for key, value in post.items() if not key.startswith("_")}

    # --- LinkedIn's error shapes -----------------------------------------------------
    def error_body(self, status, message):
        body = {"status": status, "message": message}
        code = {
            400: "BAD_REQUEST",
            401: "INVALID_ACCESS_TOKEN",
            403: "ACCESS_DENIED",
            404: "NOT_FOUND",
            422: "UNPROCESSABLE_ENTITY",
            429: "TOO_MANY_REQUESTS",
            500: "INTERNAL_SERVER_ERROR",
            503: "SERVICE_UNAVAILABLE",
        }.get(status)
        if code:
            body["code"] = code
        if status == 401:
            body["serviceErrorCode"] = 65600
        elif status == 403:
            body["serviceErrorCode"] = 100
        return body

    def status_message(self, status):
        return {
            401: "Invalid access token",
            403: "Not enough permissions to access this resource",
            404: "Not Found",
            405: "Method not allowed",
            429: "Resource level throttle APPLICATION DAY limit for calls to this resource is "
            "reached.",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }.get(status, "Bad Request")

    def li_error(self, status, code, message, *, service_code=None):
        body = {"status": status, "code": code, "message": message}
        if service_code is not None:
            body["serviceErrorCode"] = service_code
        return self.json(body, status=status)

    def field_error(self, path, description, status=422):
        """A validation error as /rest/posts words it."""
        message = f"ERROR :: {path} :: {description}\n"
        return self.json(
            {
                "errorDetailType": "com.linkedin.common.error.BadRequest",
                "code": "UNPROCESSABLE_ENTITY",
                "message": message,
                "errorDetails": {
                    "inputErrors": [
                        {
                            "description": description,
                            "input": {"inputPath": {"fieldPath": path}},
                            "code": "INVALID_VALUE",
                        }
                    ]
                },
                "status": status,
            },
            status=status,
        )

    def denied(self, resource, method, request):
        version = request.headers.get("LinkedIn-Version", "")
        return self.li_error(
            403,
            "ACCESS_DENIED",
            f"Not enough permissions to access: {resource}.{method}.{version}".rstrip("."),
            service_code=100,
        )

    # --- guards ----------------------------------------------------------------------
    def versioned(self, request):
        """The headers every /rest/* call needs, or the refusal."""
        version = request.headers.get("LinkedIn-Version")
        if not version:
            return self.li_error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the "
                "LinkedIn-Version header.",
            )
        match = VERSION_RE.match(version.strip())
        if not match or match.group(1) < self.oldest_version or version in self.retired_versions:
            return self.li_error(
                426, "NONEXISTENT_VERSION", f"Requested version {version} is not active"
            )
        if request.headers.get("X-Restli-Protocol-Version") != RESTLI:
            return self.li_error(
                400,
                "ILLEGAL_ARGUMENT",
                "This endpoint requires the header X-Restli-Protocol-Version: 2.0.0",
            )
        return None

    def authenticate(self, request):
        """(token record, None) or (None, LinkedIn's 401)."""
        token = self.bearer(request)
        if not token:
            return None, self.li_error(
                401, "EMPTY_ACCESS_TOKEN", "Empty oauth2 access token", service_code=65604
            )
        with self._lock:
            record = self.tokens.get(token)
            lag = self.revoked_for.get(token, 0)
            if lag > 0:
                self.revoked_for[token] = lag - 1
        if record is None:
            return None, self.li_error(
                401, "INVALID_ACCESS_TOKEN", "Invalid access token", service_code=65600
            )
        if record["revoked"] or lag > 0:
            return None, self.li_error(
                401,
                "REVOKED_ACCESS_TOKEN",
                "The token used in the request has been revoked by the user",
                service_code=65601,
            )
        if record["expires_at"] <= self.now():
            return None, self.li_error(
                401,
                "EXPIRED_ACCESS_TOKEN",
                "The token used in the request has expired",
                service_code=65602,
            )
        return record, None

    def rest(self, request):
        """Version headers, then the token: (record, refusal)."""
        refusal = self.versioned(request)
        if refusal is not None:
            return None, refusal
        return self.authenticate(request)

    def role(self, member_id, org_id):
        with self._lock:
            for acl in self.acls:
                if (
                    acl["roleAssignee"] == f"urn:li:person:{member_id}"
                    and acl["organizationalTarget"] == f"urn:li:organization:{org_id}"
                    and acl["state"] == "APPROVED"
                    and acl["role"] in POSTING_ROLES
                ):
                    return acl["role"]
        return None

    def may_act_as(self, record, urn, *, write=True):
        """Whether the token's member may write (or read) as `urn`."""
        if urn == f"urn:li:person:{record['member']}":
            return not write or "w_member_social" in record["scopes"]
        if urn.startswith("urn:li:organization:"):
            org_id = urn.rsplit(":", 1)[1]
            scope = "w_organization_social" if write else "r_organization_social"
            return scope in record["scopes"] and self.role(record["member"], org_id) is not None
        return False

    # --- OAuth -----------------------------------------------------------------------
    def oauth_error(self, status, error, description):
        return self.json({"error": error, "error_description": description}, status=status)

    def redirect(self, redirect_uri, query):
        separator = "&" if "?" in redirect_uri else "?"
        return Response(
            status=302, headers={"Location": redirect_uri + separator + urlencode(query)}
        )

    def authorize(self, request):
        args = request.args
        self.authorizations.append({key: args.get(key) for key in args})
        if args.get("client_id") != self.client_id:
            return self.oauth_error(400, "invalid_client", "The passed in client_id is invalid")
        redirect_uri = args.get("redirect_uri") or ""
        if not redirect_uri or (self.redirect_uris and redirect_uri not in self.redirect_uris):
            return self.oauth_error(
                400, "invalid_request", "The redirect_uri does not match the registered value"
            )
        if args.get("response_type") != "code":
            return self.oauth_error(400, "invalid_request", "response_type must be code")
        state = args.get("state", "")
        scopes = (args.get("scope") or "").replace(",", " ").split()
        unknown = [scope for scope in scopes if scope not in self.app_scopes]
        if unknown or not scopes:
            return self.redirect(
                redirect_uri,
                {
                    "error": "unauthorized_scope_error",
                    "error_description": f'Scope "{(unknown or [""])[0]}" is not authorized '
                    "for your application",
                    "state": state,
                },
            )
        if self.deny_next:
            self.deny_next = False
            return self.redirect(
                redirect_uri,
                {
                    "error": self.deny_error,
                    "error_description": "The user cancelled the authorization",
                    "state": state,
                },
            )
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = {
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scopes": scopes,
                "member": self.signed_in,
                "expires_at": self.now() + CODE_SECONDS,
                "code_challenge": args.get("code_challenge"),
            }
        return self.redirect(redirect_uri, {"code": code, "state": state})

    def access_token(self, request):
        form = request.form
        self.token_requests.append({key: form.get(key) for key in form})
        if request.mimetype != "application/x-www-form-urlencoded":
            return self.oauth_error(
                400, "invalid_request", "The request must be application/x-www-form-urlencoded"
            )
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return self.oauth_error(401, "invalid_client", "Client authentication failed")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self.codes.pop(form.get("code") or "", None)
            if (
                grant is None
                or grant["expires_at"] <= self.now()
                or grant["redirect_uri"] != form.get("redirect_uri")
            ):
                return self.oauth_error(400, "invalid_request", INVALID_GRANT)
            return self.json(self.issue(grant["member"], grant["scopes"]))
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token") or ""
            with self._lock:
                grant = self.refresh_grants.get(refresh_token)
            if grant is None:
                return self.oauth_error(
                    400, "invalid_request", "The provided refresh token is invalid"
                )
            if grant["revoked"]:
                return self.oauth_error(
                    400,
                    "invalid_request",
                    "The token used in the request has been revoked by the user",
                )
            if grant["expires_at"] <= self.now():
                return self.oauth_error(
                    400, "invalid_request", "The provided refresh token has expired"
                )
            return self.json(self.issue(grant["member"], grant["scopes"], refresh=refresh_token))
        return self.oauth_error(400, "unsupported_grant_type", "Unsupported grant type")

    def issue(self, member, scopes, *, refresh=None):
        access = "AQ" + secrets.token_urlsafe(40)
        self.add_token(access, member=member, scopes=scopes)
        answer = {
            "access_token": access,
            "expires_in": ACCESS_SECONDS,
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }
        if "openid" in scopes:
            claims = {"iss": "https://www.linkedin.com/oauth", "aud": self.client_id,
                      "sub": member, "iat": int(self.now())}  # fmt: skip
            payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
            answer["id_token"] = "eyJhbGciOiJSUzI1NiJ9." + payload.decode() + ".signature"
        if self.refresh_tokens:
            with self._lock:
                if refresh is None:
                    refresh = "AQX" + secrets.token_urlsafe(40)
                    self.refresh_grants[refresh] = {
                        "member": member,
                        "scopes": list(scopes),
                        "expires_at": self.now() + REFRESH_SECONDS,
                        "revoked": False,
                    }
                grant = self.refresh_grants[refresh]
            answer["refresh_token"] = refresh
            answer["refresh_token_expires_in"] = round(grant["expires_at"] - self.now())
        return answer

    # --- the member and their pages --------------------------------------------------
    def userinfo(self, request):
        record, refusal = self.authenticate(request)
        if refusal:
            return refusal
        if not {"openid", "profile"} <= record["scopes"]:
            return self.denied("userinfo", "GET", request)
        with self._lock:
            return self.json(dict(self.members[record["member"]]))

    def acls_finder(self, request):
        record, refusal = self.authenticate(request)
        if refusal:
            return refusal
        if request.args.get("q") != "roleAssignee":
            return self.li_error(400, "ILLEGAL_ARGUMENT", "Invalid query parameter q")
        if not record["scopes"] & {"rw_organization_admin", "r_organization_admin"}:
            return self.denied("organizationalEntityAcls", "FINDER-roleAssignee", request)
        try:
            start = max(int(request.args.get("start", 0)), 0)
            count = min(max(int(request.args.get("count", 10)), 1), 100)
        except ValueError:
            return self.li_error(400, "ILLEGAL_ARGUMENT", "Invalid paging parameters")
        assignee = f"urn:li:person:{record['member']}"
        with self._lock:
            mine = [dict(acl) for acl in self.acls if acl["roleAssignee"] == assignee]
        for name in ("state", "role"):
            if request.args.get(name):
                mine = [acl for acl in mine if acl[name] == request.args[name]]
        page = mine[start : start + count]
        links = []
        if start + count < len(mine):
            query = {**request.args.to_dict(), "start": start + count, "count": count}
            links.append({"rel": "next", "type": "application/json",
                          "href": f"/v2/organizationalEntityAcls?{urlencode(query)}"})  # fmt: skip
        return self.json({"paging": {"count": count, "start": start, "links": links},
                          "elements": page})  # fmt: skip

    def organization(self, request, org_id):
        record, refusal = self.rest(request)
        if refusal:
            return refusal
        with self._lock:
            organization = self.organizations.get(org_id)
        if organization is None:
            return self.li_error(404, "NOT_FOUND", f"Organization {org_id} not found")
        return self.json(dict(organization))

    # --- images ----------------------------------------------------------------------
    def image_status(self, image):
        if image["failed"]:
            return "PROCESSING_FAILED"
        if not image["uploaded"]:
            return "WAITING_UPLOAD"
        if image["polls_left"] > 0 or self.now() < image["ready_at"]:
            return "PROCESSING"
        return "AVAILABLE"

    def images_action(self, request):
        record, refusal = self.rest(request)
        if refusal:
            return refusal
        if request.args.get("action") != "initializeUpload":
            return self.li_error(400, "ILLEGAL_ARGUMENT", "Unsupported action")
        data = request.get_json(silent=True)
        upload = data.get("initializeUploadRequest") if isinstance(data, dict) else None
        owner = upload.get("owner") if isinstance(upload, dict) else None
        if not isinstance(owner, str) or not owner:
            return self.field_error(
                "/initializeUploadRequest/owner",
                "field is required but not found and has no default value",
            )
        if not self.may_act_as(record, owner):
            return self.denied("images", "ACTION-initializeUpload", request)
        upload_id = secrets.token_urlsafe(18)
        urn = "urn:li:image:D4E10AQ" + secrets.token_urlsafe(12).replace("-", "x")
        with self._lock:
            self.images[urn] = {
                "owner": owner,
                "member": record["member"],
                "upload_id": upload_id,
                "uploaded": False,
                "failed": False,
                "data": b"",
                "polls_left": 0,
                "ready_at": 0.0,
                "reason": "",
            }
            self.uploads[upload_id] = urn
        expires = int((self.now() + 86400) * 1000)
        return self.json(
            {
                "value": {
                    "uploadUrlExpiresAt": expires,
                    "uploadUrl": self.url(f"/dms-uploads/{upload_id}"),
                    "image": urn,
                }
            }
        )

    def upload(self, request, upload_id):
        record, refusal = self.authenticate(request)
        if refusal:
            return refusal
        data = request.get_data()
        with self._lock:
            urn = self.uploads.get(upload_id)
            image = self.images.get(urn) if urn else None
            if image is None:
                return self.li_error(404, "NOT_FOUND", "Upload not found")
            if image["member"] != record["member"]:
                return self.li_error(403, "ACCESS_DENIED", "Not the owner of this upload",
                                     service_code=100)  # fmt: skip
            if not data:
                return self.li_error(400, "BAD_REQUEST", "Empty upload")
            image["data"] = data
            image["uploaded"] = True
            image["polls_left"] = self.processing_polls
            image["ready_at"] = self.now() + self.processing_seconds
            if self.fail_processing_next or not is_image(data):
                self.fail_processing_next = False
                image["failed"] = True
                image["reason"] = "The uploaded file is not a supported image"
        return Response(status=201)

    def get_image(self, request, urn):
        record, refusal = self.rest(request)
        if refusal:
            return refusal
        with self._lock:
            image = self.images.get(urn)
        if image is None:
            return self.li_error(404, "NOT_FOUND", f"Image {urn} not found")
        # A member's images are write-only with w_member_social.
        if not image["owner"].startswith("urn:li:organization:") or not (
            self.may_act_as(record, image["owner"], write=False)
            or self.may_act_as(record, image["owner"])
        ):
            return self.denied("images", "GET", request)
        with self._lock:
            status = self.image_status(image)
            if image["uploaded"] and image["polls_left"] > 0:
                image["polls_left"] -= 1
        body = {"id": urn, "owner": image["owner"], "status": status}
        if status == "AVAILABLE":
            body["downloadUrl"] = f"https://media.licdn.com/dms/image/{urn.rsplit(':', 1)[1]}"
            body["downloadUrlExpiresAt"] = int((self.now() + 3600) * 1000)
        if status == "PROCESSING_FAILED":
            body["processingFailureReason"] = image["reason"]
        return self.json(body)

    # --- posts -----------------------------------------------------------------------
    def posts_endpoint(self, request):
        if request.method == "GET":
            return self.find_posts(request)
        return self.create_post(request)

    def check_image(self, urn, author, path):
        """A refusal when the image cannot be used in a post by `author`. Holds the lock."""
        image = self.images.get(urn) if isinstance(urn, str) else None
        if image is None or image["owner"] != author:
            return self.field_error(path, f"Image {urn} does not exist or is not owned by {author}")
        status = self.image_status(image)
        if status != "AVAILABLE":
            return self.field_error(path, f"Image {urn} is not AVAILABLE (status {status})")
        return None

    def check_content(self, content, author):
        """A refusal for the post's `content`, or None. Holds the lock."""
        if not isinstance(content, dict):
            return self.field_error("/content", "content must be a record")
        kinds = [key for key in content if key in ("media", "multiImage", "article")]
        if len(kinds) != 1 or len(content) != 1:
            return self.field_error(
                "/content", "exactly one of media, multiImage, article must be set"
            )
        kind = kinds[0]
        if kind == "media":
            media = content["media"]
            if not isinstance(media, dict) or "id" not in media:
                return self.field_error("/content/media/id", "field is required but not found")
            if len(str(media.get("altText") or "")) > MAX_ALT:
                return self.field_error(
                    "/content/media/altText", f"length must be at most {MAX_ALT}"
                )
            return self.check_image(media["id"], author, "/content/media/id")
        if kind == "multiImage":
            images = (content["multiImage"] or {}).get("images")
            if not isinstance(images, list) or not 2 <= len(images) <= 20:
                return self.field_error(
                    "/content/multiImage/images", "a multi-image post has 2 to 20 images"
                )
            for index, image in enumerate(images):
                path = f"/content/multiImage/images/{index}"
                if not isinstance(image, dict) or "id" not in image:
                    return self.field_error(f"{path}/id", "field is required but not found")
                if len(str(image.get("altText") or "")) > MAX_ALT:
                    return self.field_error(f"{path}/altText", f"length must be at most {MAX_ALT}")
                refusal = self.check_image(image["id"], author, f"{path}/id")
                if refusal:
                    return refusal
            return None
        article = content["article"]
        if not isinstance(article, dict):
            return self.field_error("/content/article", "article must be a record")
        source = str(article.get("source") or "")
        if not re.match(r"^https?://[^\s/]+\.[^\s]+$", source):
            return self.field_error("/content/article/source", "source must be a valid URL")
        if not str(article.get("title") or "").strip():
            return self.field_error(
                "/content/article/title", "field is required but not found and has no default"
            )
        if article.get("thumbnail"):
            return self.check_image(article["thumbnail"], author, "/content/article/thumbnail")
        return None

    def create_post(self, request):
        record, refusal = self.rest(request)
        if refusal:
            return refusal
        if request.mimetype != "application/json":
            return self.li_error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be JSON")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return self.li_error(400, "BAD_REQUEST", "Unable to parse the request body as JSON")
        for name in ("author", "visibility", "distribution", "lifecycleState"):
            if name not in data:
                return self.field_error(
                    f"/{name}", "field is required but not found and has no default value"
                )
        author = data["author"]
        if data["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"):
            return self.field_error("/visibility", "invalid enum value")
        distribution = data["distribution"]
        if not isinstance(distribution, dict) or distribution.get("feedDistribution") not in (
            "MAIN_FEED",
            "NONE",
        ):
            return self.field_error("/distribution/feedDistribution", "invalid enum value")
        if data["lifecycleState"] != "PUBLISHED":
            return self.field_error("/lifecycleState", "only PUBLISHED posts are accepted")
        if not isinstance(author, str) or not self.may_act_as(record, author):
            return self.denied("partnerApiPostsExternal", "CREATE", request)
        commentary = data.get("commentary", "")
        if not isinstance(commentary, str):
            return self.field_error("/commentary", "commentary must be a string")
        problem = little_text_problem(commentary)
        if problem is not None:
            position, char = problem
            return self.field_error(
                "/commentary",
                f"reserved character '{char}' at position {position} must be escaped with a "
                "backslash (little text format)",
            )
        text = unescaped(commentary)
        if len(text) > MAX_CHARACTERS:
            return self.field_error(
                "/commentary", f"length {len(text)} exceeds the maximum of {MAX_CHARACTERS}"
            )
        content = data.get("content")
        with self._lock:
            if content is not None:
                refusal = self.check_content(content, author)
                if refusal:
                    return refusal
            elif not text.strip():
                return self.field_error("/commentary", "a post needs text or content")
            if self._no_id > 0:
                self._no_id -= 1
                return Response(status=201)
            number = self.next_number()
            now_ms = int(self.now() * 1000)
            post = {
                "id": f"urn:li:share:{number}",
                "author": author,
                "commentary": commentary,
                "visibility": data["visibility"],
                "distribution": distribution,
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": bool(data.get("isReshareDisabledByAuthor")),
                "createdAt": now_ms,
                "lastModifiedAt": now_ms,
                "publishedAt": now_ms,
                "lifecycleStateInfo": {"isEditedByAuthor": False},
                "_text": text,
                "_activity": f"urn:li:activity:{number + 11}",
            }
            if content is not None:
                post["content"] = content
            self.posts.append(post)
        return Response(status=201, headers={"x-restli-id": post["id"]})

    def find_posts(self, request):
        record, refusal = self.rest(request)
        if refusal:
            return refusal
        if request.args.get("q") != "author":
            return self.li_error(400, "ILLEGAL_ARGUMENT", "Invalid query parameter q")
        author = request.args.get("author") or ""
        if not author.startswith("urn:li:organization:") or not self.may_act_as(
            record, author, write=False
        ):
            # A member's own posts need r_member_social, which LinkedIn restricts.
            return self.denied("partnerApiPostsExternal", "FINDER-author", request)
        sort = request.args.get("sortBy", "LAST_MODIFIED")
        if sort not in ("LAST_MODIFIED", "CREATED"):
            return self.li_error(400, "ILLEGAL_ARGUMENT", "Invalid sortBy")
        try:
            start = max(int(request.args.get("start", 0)), 0)
            count = min(max(int(request.args.get("count", 10)), 1), 100)
        except ValueError:
            return self.li_error(400, "ILLEGAL_ARGUMENT", "Invalid paging parameters")
        key = "lastModifiedAt" if sort == "LAST_MODIFIED" else "createdAt"
        with self._lock:
            own = [self.public(post) for post in self.posts if post["author"] == author]
        own.sort(key=lambda post: post[key], reverse=True)
        page = own[start : start + count]
        return self.json(
            {"paging": {"start": start, "count": count, "total": len(own), "links": []},
             "elements": page}
        )  # fmt: skip

    # --- comments --------------------------------------------------------------------
    def comments_endpoint(self, request, target):
        record, refusal = self.rest(request)
        if refusal:
            return refusal
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
        if "urn:li:" in raw.split("?", 1)[0]:
            return self.li_error(
                400, "ILLEGAL_ARGUMENT", f"Invalid resource key: {target} must be URL-encoded"
            )
        with self._lock:
            post = next((post for post in self.posts if post["id"] == target), None)
        if post is None:
            return self.li_error(404, "NOT_FOUND", f"Unable to find {target}")
        if request.method == "GET":
            if not post["author"].startswith("urn:li:organization:") or not self.may_act_as(
                record, post["author"], write=False
            ):
                return self.denied("comments", "GET_ALL", request)
            with self._lock:
                found = [dict(item) for item in self.comments if item["object"] == target]
            return self.json(
                {"paging": {"start": 0, "count": 10, "total": len(found), "links": []},
                 "elements": found}
            )  # fmt: skip
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return self.li_error(400, "BAD_REQUEST", "Unable to parse the request body as JSON")
        actor = data.get("actor")
        if not isinstance(actor, str) or not self.may_act_as(record, actor):
            return self.denied("comments", "CREATE", request)
        if data.get("object") != target:
            return self.field_error("/object", f"object must be the commented entity {target}")
        message = data.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str) or not text.strip():
            return self.field_error("/message/text", "field is required but not found")
        if len(text) > MAX_COMMENT:
            return self.field_error("/message/text", f"length must be at most {MAX_COMMENT}")
        with self._lock:
            if self.activity_lag > 0:
                self.activity_lag -= 1
                return self.li_error(
                    400, "BAD_REQUEST", f"Unable to obtain activity {post['_activity']}"
                )
            number = self.next_number()
            now_ms = int(self.now() * 1000)
            comment = {
                "id": str(number),
                "$URN": f"urn:li:comment:({post['_activity']},{number})",
                "actor": actor,
                "object": target,
                "message": {"text": text},
                "created": {"actor": actor, "time": now_ms},
                "lastModified": {"actor": actor, "time": now_ms},
            }
            self.comments.append(comment)
        return self.json(comment, status=201, headers={"x-restli-id": comment["$URN"]})
