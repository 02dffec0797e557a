"""Contract fake of a Bluesky PDS (write side), built from the AT Protocol lexicons in
../shared/data/apis/atproto and docs/networks.md section 2.

- Sessions: `createSession` (handle, DID or email with the app password; an account whose
  main password needs an email code answers 401 AuthFactorTokenRequired), `refreshSession`
  with rotation (a used refresh JWT is dead), access JWTs whose `exp` claim is real
  (`access_ttl`, or `expire_access_tokens()`): an expired one gets
  400 {"error": "ExpiredToken", "message": "Token has expired"}.
- `uploadBlob` (content-addressed blobs), `createRecord` (the record is validated against
  app.bsky.feed.post: 300 graphemes, 3,000 bytes, blob sizes and types; an existing record
  key answers HTTP 500 InternalServerError like the reference PDS), `getRecord`
  (400 RecordNotFound), `listRecords` (newest first, cursor), `resolveHandle`, and
  `app.bsky.actor.getProfile` (a real PDS proxies it to the AppView).
- GET /_fake/stats (served by FakeServer from `stats()`): {"records", "duplicates",
  "conflicts", "sessions_created"} for benchmarks in other processes; tests call
  `records()`, `posts_with_text()` and `duplicates()` directly.

The server is threaded: every read and write of the state holds the lock.
"""

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field

import regex
from werkzeug.routing import Rule

from tribu.testing.fakes.schemas import SchemaError, validate_lexicon
from tribu.testing.fakes.server import FakeServer

DEFAULT_HANDLE = "tribu-test.bsky.social"
DEFAULT_APP_PASSWORD = "abcd-efgh-ijkl-mnop"  # noqa: S105 (a fake's fixture)
DEFAULT_DID = "did:plc:tributestaccount0000000a"
POST = "app.bsky.feed.post"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_RE = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
MAX_GRAPHEMES = 300
# Blob limits of the lexicons, by where the blob sits in the record.
IMAGE_MAX = 2_000_000
THUMB_MAX = 1_000_000


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims):
    header = b64url(json.dumps({"typ": "at+jwt", "alg": "ES256K"}).encode())
    payload = b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{b64url(secrets.token_bytes(32))}"


def cid_for(data, prefix="bafyrei"):
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode().lower().rstrip("=")
    return prefix + digest[:52]


def iso(seconds):
    moment = time.gmtime(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{int(seconds * 1000) % 1000:03d}Z"


def tid_now(counter):
    value = (time.time_ns() // 1000) << 10 | (counter & 1023)
    out = ""
    for _ in range(13):
        out = TID_ALPHABET[value & 31] + out
        value >>= 5
    return out


@dataclass
class PdsAccount:
    handle: str
    app_password: str
    did: str
    display_name: str = ""
    email: str = ""
    main_password: str = ""
    # The account asks for an email code when signing in with its main password.
    email_auth_factor: bool = False
    avatar: str = ""
    records: dict = field(default_factory=dict)  # rkey -> {"uri", "cid", "value"}


class BlueskyPdsFake(FakeServer):
    network = "bluesky"

    def __init__(self, *, accounts=None, access_ttl=7200, max_blob_bytes=50_000_000):
        super().__init__()
        self.access_ttl = access_ttl  # seconds; negative: tokens are born expired
        self.refresh_ttl = 90 * 24 * 3600
        self.max_blob_bytes = max_blob_bytes
        self.accounts = {}  # did -> PdsAccount
        self.handles = {}  # handle -> did, accounts elsewhere included (resolveHandle)
        self.access_tokens = {}  # jwt -> [did, exp]
        self.refresh_tokens = {}  # jwt -> did
        self.used_refresh_tokens = set()
        self.blobs = {}  # (did, cid) -> {"mimeType", "size"}
        self.conflicts = 0  # createRecord calls refused because the key existed
        self.sessions_created = 0
        self._counter = 0
        if accounts is None:
            accounts = [
                {
                    "handle": DEFAULT_HANDLE,
                    "app_password": DEFAULT_APP_PASSWORD,
                    "did": DEFAULT_DID,
                    "display_name": "Tribu Test",
                }
            ]
        for account in accounts:
            self.add_account(**account)

    def rules(self):
        def xrpc(nsid, endpoint, method):
            return Rule(f"/xrpc/{nsid}", endpoint=endpoint, methods=[method])

        return [
            xrpc("com.atproto.server.createSession", "create_session", "POST"),
            xrpc("com.atproto.server.refreshSession", "refresh_session", "POST"),
            xrpc("com.atproto.server.getSession", "get_session", "GET"),
            xrpc("app.bsky.actor.getProfile", "get_profile", "GET"),
            xrpc("com.atproto.identity.resolveHandle", "resolve_handle", "GET"),
            xrpc("com.atproto.repo.uploadBlob", "upload_blob", "POST"),
            xrpc("com.atproto.repo.createRecord", "create_record", "POST"),
            xrpc("com.atproto.repo.getRecord", "get_record", "GET"),
            xrpc("com.atproto.repo.listRecords", "list_records", "GET"),
        ]

    def error_body(self, status, message):
        names = {
            400: "InvalidRequest",
            401: "AuthenticationRequired",
            403: "Forbidden",
            404: "XRPCNotSupported",
            429: "RateLimitExceeded",
            500: "InternalServerError",
        }
        return {"error": names.get(status, "InternalServerError"), "message": message}

    def xrpc_error(self, status, name, message, headers=None):
        return self.json({"error": name, "message": message}, status=status, headers=headers)

    # --- accounts and tokens (for tests) ---------------------------------------------
    def add_account(
        self,
        handle,
        app_password,
        *,
        did=None,
        display_name="",
        email="",
        main_password="",
        email_auth_factor=False,
        avatar="",
    ):
        did = did or "did:plc:" + cid_for(handle.encode(), "")[:24]
        account = PdsAccount(
            handle=handle,
            app_password=app_password,
            did=did,
            display_name=display_name,
            email=email,
            main_password=main_password,
            email_auth_factor=email_auth_factor,
            avatar=avatar,
        )
        with self._lock:
            self.accounts[did] = account
            self.handles[handle.lower()] = did
        return account

    def add_handle(self, handle, did):
        """An account hosted elsewhere, known to resolveHandle (for mentions)."""
        with self._lock:
            self.handles[handle.lower()] = did

    def expire_access_tokens(self):
        """Every access JWT issued so far is now expired (their `exp` claims stay)."""
        with self._lock:
            for entry in self.access_tokens.values():
                entry[1] = time.time() - 1

    def revoke_app_password(self, handle):
        """The owner revoked the app password: its sessions die and it no longer signs in."""
        with self._lock:
            did = self.handles[handle.lower()]
            self.accounts[did].app_password = secrets.token_hex(16)
            for store in (self.access_tokens, self.refresh_tokens):
                for token in [token for token, value in store.items() if self._did(value) == did]:
                    del store[token]

    @staticmethod
    def _did(value):
        return value[0] if isinstance(value, list) else value

    def _issue(self, account):
        now = time.time()
        access = make_jwt(
            {
                "scope": "com.atproto.appPass",
                "sub": account.did,
                "aud": "did:web:pds.fake",
                "iat": int(now),
                "exp": int(now + self.access_ttl),
            }
        )
        refresh = make_jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": account.did,
                "aud": "did:web:pds.fake",
                "jti": secrets.token_hex(16),
                "iat": int(now),
                "exp": int(now + self.refresh_ttl),
            }
        )
        self.access_tokens[access] = [account.did, now + self.access_ttl]
        self.refresh_tokens[refresh] = account.did
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": account.handle,
            "did": account.did,
            "email": account.email or f"{account.handle}@example.com",
            "emailConfirmed": True,
            "emailAuthFactor": account.email_auth_factor,
            "active": True,
        }

    def _authenticate(self, request):
        """(account, None) for a live access JWT, else (None, error response)."""
        token = self.bearer(request)
        if token is None:
            return None, self.xrpc_error(401, "AuthMissing", "Authentication Required")
        with self._lock:
            entry = self.access_tokens.get(token)
            is_refresh = token in self.refresh_tokens or token in self.used_refresh_tokens
            account = self.accounts.get(entry[0]) if entry else None
        if entry is None:
            if is_refresh:
                return None, self.xrpc_error(400, "InvalidToken", "Invalid token type")
            return None, self.xrpc_error(401, "InvalidToken", "Token could not be verified")
        if entry[1] <= time.time():
            return None, self.xrpc_error(400, "ExpiredToken", "Token has expired")
        return account, None

    def _account_for(self, identifier):
        identifier = (identifier or "").strip().lower()
        with self._lock:
            if identifier in self.accounts:
                return self.accounts[identifier]
            did = self.handles.get(identifier)
            if did in self.accounts:
                return self.accounts[did]
            for account in self.accounts.values():
                if account.email and account.email.lower() == identifier:
                    return account
        return None

    # --- data (for tests and benchmarks) ---------------------------------------------
    def records(self, did=None):
        """Every stored post as {"uri", "cid", "value", "rkey", "did"}, oldest key first."""
        with self._lock:
            accounts = [self.accounts[did]] if did else list(self.accounts.values())
            out = []
            for account in accounts:
                for rkey in sorted(account.records):
                    out.append({**account.records[rkey], "rkey": rkey, "did": account.did})
        return out

    def posts_with_text(self, text):
        return [record for record in self.records() if record["value"].get("text") == text]

    def duplicates(self):
        """Posts published more than once: the same text, in the same repository, answering
        the same post (a thread's parts are distinct by their parent)."""
        groups = {}
        for record in self.records():
            value = record["value"]
            parent = ((value.get("reply") or {}).get("parent") or {}).get("uri", "")
            key = (record["did"], value.get("text", ""), parent)
            groups.setdefault(key, []).append(record["uri"])
        return [
            {"did": did, "text": text, "uris": uris}
            for (did, text, _parent), uris in groups.items()
            if len(uris) > 1
        ]

    def stats(self):
        """What GET /_fake/stats answers (FakeServer serves it)."""
        return {
            "records": len(self.records()),
            "duplicates": self.duplicates(),
            "conflicts": self.conflicts,
            "sessions_created": self.sessions_created,
        }

    # --- sessions --------------------------------------------------------------------
    def create_session(self, request):
        body = request.get_json(silent=True) or {}
        identifier, password = body.get("identifier"), body.get("password")
        if not isinstance(identifier, str) or not isinstance(password, str):
            return self.xrpc_error(
                400, "InvalidRequest", 'Input must have the properties "identifier", "password"'
            )
        account = self._account_for(identifier)
        with self._lock:
            if account is not None and password == account.app_password:
                self.sessions_created += 1
                return self.json(self._issue(account))
            if account is not None and account.main_password and password == account.main_password:
                if account.email_auth_factor and not body.get("authFactorToken"):
                    return self.xrpc_error(
                        401,
                        "AuthFactorTokenRequired",
                        "A sign in code has been sent to your email address",
                    )
                self.sessions_created += 1
                return self.json(self._issue(account))
        return self.xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")

    def refresh_session(self, request):
        token = self.bearer(request)
        if token is None:
            return self.xrpc_error(401, "AuthMissing", "Authentication Required")
        with self._lock:
            if token in self.used_refresh_tokens:
                return self.xrpc_error(400, "ExpiredToken", "Token has been revoked")
            did = self.refresh_tokens.pop(token, None)
            if did is None:
                if token in self.access_tokens:
                    return self.xrpc_error(400, "InvalidToken", "Invalid token type")
                return self.xrpc_error(400, "InvalidToken", "Token could not be verified")
            # Rotation: this refresh JWT is spent; a second use is refused.
            self.used_refresh_tokens.add(token)
            return self.json(self._issue(self.accounts[did]))

    def get_session(self, request):
        account, error = self._authenticate(request)
        if error:
            return error
        return self.json({"handle": account.handle, "did": account.did, "active": True})

    def get_profile(self, request):
        account = self._account_for(request.args.get("actor"))
        if account is None:
            return self.xrpc_error(400, "InvalidRequest", "Profile not found")
        with self._lock:
            posts = len(account.records)
        profile = {
            "did": account.did,
            "handle": account.handle,
            "followersCount": 0,
            "followsCount": 0,
            "postsCount": posts,
        }
        if account.display_name:
            profile["displayName"] = account.display_name
        if account.avatar:
            profile["avatar"] = account.avatar
        return self.json(profile)

    def resolve_handle(self, request):
        handle = (request.args.get("handle") or "").strip().lower()
        if not handle:
            return self.xrpc_error(400, "InvalidRequest", 'Params must have the property "handle"')
        with self._lock:
            did = self.handles.get(handle)
        if did is None:
            return self.xrpc_error(400, "HandleNotFound", "Unable to resolve handle")
        return self.json({"did": did})

    # --- blobs and records -----------------------------------------------------------
    def upload_blob(self, request):
        account, error = self._authenticate(request)
        if error:
            return error
        data = request.get_data()
        if len(data) > self.max_blob_bytes:
            return self.xrpc_error(400, "BlobTooLarge", "request entity too large")
        mime = (request.headers.get("Content-Type") or "application/octet-stream").split(";")[0]
        cid = cid_for(data, "bafkrei")
        with self._lock:
            self.blobs[(account.did, cid)] = {"mimeType": mime, "size": len(data)}
        return self.json(
            {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}}
        )

    def forget_blobs(self):
        """The PDS deleted the blobs no record uses (it does so after a while)."""
        with self._lock:
            used = {
                cid
                for account in self.accounts.values()
                for record in account.records.values()
                for cid, _max, _where in blob_refs(record["value"])
            }
            for key in [key for key in self.blobs if key[1] not in used]:
                del self.blobs[key]

    def create_record(self, request):
        account, error = self._authenticate(request)
        if error:
            return error
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(
            key in body for key in ("repo", "collection", "record")
        ):
            return self.xrpc_error(
                400,
                "InvalidRequest",
                'Input must have the properties "repo", "collection", "record"',
            )
        if body["repo"] not in (account.did, account.handle):
            return self.xrpc_error(401, "AuthRequired", "Cannot write to another repository")
        if body["collection"] != POST:
            return self.xrpc_error(400, "InvalidRequest", "This fake only stores posts")
        record = body["record"]
        problem = self.check_post(account, record)
        if problem is not None:
            return problem
        rkey = body.get("rkey")
        if rkey is not None and (not isinstance(rkey, str) or not TID_RE.match(rkey)):
            return self.xrpc_error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        with self._lock:
            if rkey is None:
                self._counter += 1
                rkey = tid_now(self._counter)
            if rkey in account.records:
                # The reference PDS fails on the unique index instead of a clean conflict.
                self.conflicts += 1
                return self.xrpc_error(500, "InternalServerError", "Internal Server Error")
            encoded = json.dumps(record, sort_keys=True).encode()
            cid = cid_for(encoded)
            uri = f"at://{account.did}/{POST}/{rkey}"
            account.records[rkey] = {"uri": uri, "cid": cid, "value": json.loads(encoded)}
            self._counter += 1
            rev = tid_now(self._counter)
        return self.json(
            {
                "uri": uri,
                "cid": cid,
                "commit": {"cid": cid_for(rev.encode()), "rev": rev},
                "validationStatus": "valid",
            }
        )

    def check_post(self, account, record):
        """None when the post is valid, else the PDS's 400 answer."""

        def invalid(message):
            return self.xrpc_error(
                400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {message}"
            )

        if not isinstance(record, dict):
            return invalid("Record must be an object")
        try:
            validate_lexicon(record, POST)
        except SchemaError as error:
            return invalid(str(error))
        text = record["text"]
        if len(regex.findall(r"\X", text)) > MAX_GRAPHEMES:
            return invalid(f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes")
        if len(record.get("langs") or []) > 3:
            return invalid("Record/langs must not have more than 3 elements")
        embed = record.get("embed") or {}
        if len(embed.get("images") or []) > 4:
            return invalid("Record/embed/images must not have more than 4 elements")
        for facet in record.get("facets") or []:
            index = facet["index"]
            if not 0 <= index["byteStart"] <= index["byteEnd"] <= len(text.encode()):
                return invalid("Record/facets has an index outside the text")
        with self._lock:
            for cid, maximum, where in blob_refs(record):
                if cid is None:
                    return invalid(f"Record/embed: the {where} is not a blob object")
                blob = self.blobs.get((account.did, cid))
                if blob is None:
                    return self.xrpc_error(400, "BlobNotFound", f"Could not find blob: {cid}")
                if blob["size"] > maximum:
                    return self.xrpc_error(
                        400,
                        "BlobTooLarge",
                        f"This file is too large. It is {blob['size']} bytes but the maximum "
                        f"size is {maximum} bytes.",
                    )
                if not blob["mimeType"].startswith("image/"):
                    return self.xrpc_error(
                        400,
                        "InvalidMimeType",
                        f"Wrong type of file. It is {blob['mimeType']} but it must match image/*.",
                    )
        return None

    def get_record(self, request):
        account = self._account_for(request.args.get("repo"))
        if account is None:
            return self.xrpc_error(
                400, "InvalidRequest", f"Could not find repo: {request.args.get('repo')}"
            )
        collection, rkey = request.args.get("collection"), request.args.get("rkey", "")
        with self._lock:
            stored = account.records.get(rkey) if collection == POST else None
        if stored is None:
            return self.xrpc_error(
                400,
                "RecordNotFound",
                f"Could not locate record: at://{account.did}/{collection}/{rkey}",
            )
        return self.json(stored)

    def list_records(self, request):
        account = self._account_for(request.args.get("repo"))
        if account is None:
            return self.xrpc_error(
                400, "InvalidRequest", f"Could not find repo: {request.args.get('repo')}"
            )
        try:
            limit = int(request.args.get("limit", 50))
        except ValueError:
            return self.xrpc_error(400, "InvalidRequest", "limit must be an integer")
        if not 1 <= limit <= 100:
            return self.xrpc_error(400, "InvalidRequest", "limit must be between 1 and 100")
        reverse = request.args.get("reverse") == "true"
        cursor = request.args.get("cursor")
        with self._lock:
            stored = account.records if request.args.get("collection") == POST else {}
            keys = sorted(stored, reverse=not reverse)  # newest first unless reversed
            if cursor:
                keys = [key for key in keys if (key > cursor if reverse else key < cursor)]
            page = [stored[key] for key in keys[:limit]]
            more = len(keys) > limit
        body = {"records": page}
        if more and page:
            body["cursor"] = rkey_of(page[-1]["uri"])
        return self.json(body)


def rkey_of(uri):
    return uri.rsplit("/", 1)[-1]


def blob_link(blob):
    """The CID of a blob object per the lexicons ({"$type": "blob", "ref": {"$link"},
    "mimeType", "size"}), or None when it is not one."""
    if not isinstance(blob, dict) or blob.get("$type") != "blob":
        return None
    if not isinstance(blob.get("mimeType"), str) or not isinstance(blob.get("size"), int):
        return None
    link = (blob.get("ref") or {}).get("$link") if isinstance(blob.get("ref"), dict) else None
    return link if isinstance(link, str) else None


def blob_refs(record):
    """(cid, max size, where) of every blob a post uses; cid None for a malformed blob."""
    embed = record.get("embed") or {}
    refs = []
    for image in embed.get("images") or []:
        refs.append((blob_link(image.get("image")), IMAGE_MAX, "image"))
    external = embed.get("external") or {}
    if "thumb" in external:
        refs.append((blob_link(external["thumb"]), THUMB_MAX, "thumb"))
    return refs
