"""Public, signed and expiring addresses of a post's images, for the networks that download
media themselves instead of receiving it (Instagram and Threads fetch `image_url`).

The address carries the file's storage path signed with the secret key and a time; it
works for 24 hours (the life of an Instagram container) and for nothing else: no listing,
no other file, no workspace data.
"""

import mimetypes

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from tribu.channels.networks.http import media_path_from_token


@require_safe
def public_media(request, token):
    path = media_path_from_token(token)
    if not path or not path.startswith("posts/"):
        raise Http404
    try:
        handle = default_storage.open(path, "rb")
    except (OSError, SuspiciousFileOperation, ValueError):
        raise Http404 from None
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    return response
