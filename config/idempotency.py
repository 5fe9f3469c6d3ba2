"""Idempotency-Key for writes that must happen once (suspend, lift, issue, decide)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, cast

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import IdempotentRequest

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _fingerprint(request: Request) -> str:
    payload = json.dumps(
        [request.method, request.path, request.data], sort_keys=True, default=str
    ).encode()
    return hashlib.sha256(payload).hexdigest()


def _replay(stored: IdempotentRequest, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return Response(
            {
                "detail": "This Idempotency-Key was already used with a different request.",
                "code": "idempotency_key_reused",
            },
            status=422,
        )
    return Response(stored.body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Honour an Idempotency-Key on a write that must happen once: the same key and body get
    the first (successful) response again; the same key with another body is a 422. The write
    and the stored response commit together, so a race between two retries does the work once."""

    @functools.wraps(view)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if IDEMPOTENCY_HEADER not in request.headers:
            return view(self, request, *args, **kwargs)
        if not key or len(key) > 200:
            raise ValidationError({IDEMPOTENCY_HEADER: ["Send 1 to 200 characters."]})
        fingerprint = _fingerprint(request)
        user_id = cast(int, request.user.pk)  # idempotent views require authentication
        stored = IdempotentRequest.objects.filter(user_id=user_id, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                response = view(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    body = json.loads(JSONRenderer().render(response.data) or b"null")
                    IdempotentRequest.objects.create(
                        user_id=user_id,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=response.status_code,
                        body=body,
                    )
        except IntegrityError:
            # Another request with this key committed first: its response is the answer.
            stored = IdempotentRequest.objects.filter(user_id=user_id, key=key).first()
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        return response

    return wrapper
