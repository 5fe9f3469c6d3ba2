"""Idempotency-Key for writes that must happen once (suspend, lift, issue, decide)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import IdempotentRequest

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _fingerprint(request: Request) -> str:
    """What makes two requests the same: method, path, body, and each uploaded file's bytes
    (not only its name: the same key with another file of the same name is another request)."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [request.method, request.path, request.data], sort_keys=True, default=str
        ).encode()
    )
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest.update(name.encode() + b"\0")
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def _replay(stored: IdempotentRequest, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return Response(
            {
                "detail": _("This Idempotency-Key was already used with a different request."),
                "code": "idempotency_key_reused",
            },
            status=422,
        )
    if stored.status_code == 0:
        return Response(
            {
                "detail": _("A request with this Idempotency-Key is still running."),
                "code": "in_progress",
            },
            status=409,
        )
    return Response(stored.body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Honour an Idempotency-Key on a write that must happen once: the same key and body get
    the first (successful) response again; the same key with another body is a 422.

    The key is claimed (a row under a unique index) in the same transaction as the write, so a
    concurrent retry waits for the first to commit and then replays its response; a failed
    first attempt releases the key, because its claim rolls back or is removed."""

    @functools.wraps(view)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        if IDEMPOTENCY_HEADER not in request.headers:
            return view(self, request, *args, **kwargs)
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if not key or len(key) > 200:
            raise ValidationError({IDEMPOTENCY_HEADER: [_("Send 1 to 200 characters.")]})
        fingerprint = _fingerprint(request)
        user_id = cast(int, request.user.pk)  # idempotent views require authentication
        stored = IdempotentRequest.objects.filter(user_id=user_id, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                with transaction.atomic():  # a savepoint: a lost race on the claim is caught below
                    claim = IdempotentRequest.objects.create(
                        user_id=user_id, key=key, fingerprint=fingerprint, status_code=0, body=None
                    )
                response = view(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    claim.status_code = response.status_code
                    claim.body = json.loads(JSONRenderer().render(response.data) or b"null")
                    claim.save(update_fields=["status_code", "body"])
                else:
                    claim.delete()  # an answered error does not use the key up
        except IntegrityError:
            stored = IdempotentRequest.objects.filter(user_id=user_id, key=key).first()
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        return response

    return wrapper
