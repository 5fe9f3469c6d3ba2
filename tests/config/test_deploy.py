"""Production hardening: `check --deploy` with the README's production environment reports
nothing, and every page carries the security headers its Content Security Policy relies on."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def readme_production_env() -> dict[str, str]:
    """The variables the README's Production section exports, as an operator would set them."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"^export (.*?)^python manage\.py", text, re.S | re.M)
    assert block, "the README's Production section lost its export block"
    words = shlex.split(block.group(1).replace("\\\n", " "))
    env = dict(word.split("=", 1) for word in words if "=" in word)
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"} <= set(env)
    env["SECRET_KEY"] = secrets.token_urlsafe(64)  # the README shows "..."
    return env


def test_check_deploy_with_the_production_settings_reports_nothing():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DEBUG", "DEMO_", "SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(readme_production_env())
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        check=False,  # the assertion below shows what it reported
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.mark.django_db
def test_only_the_admin_and_the_api_docs_allow_inline_script(client):
    docs = client.get("/api/docs/")
    assert "'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    api = client.get("/api/v1/me/", HTTP_ACCEPT="application/json")
    assert "'unsafe-inline'" not in api.headers["Content-Security-Policy"]


@pytest.mark.django_db
def test_no_shared_cache_keeps_anything_but_the_static_files(
    client, login_as, unit, bu_head, bu_member, ciso, chair, cqo, secretary, settings, tmp_path
):
    """Pages, API answers, evidence downloads, exports and the agenda pack speak of someone's
    cases: `private, no-store` on every one; the static files stay cacheable."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from actions import services as action_services
    from actions.models import Evidence
    from tests.actions.conftest import task
    from tests.committee.conftest import build_committee, make_meeting

    settings.MEDIA_ROOT = tmp_path
    signed_out = client.get("/accounts/login/")
    assert "no-store" in signed_out["Cache-Control"]
    action = task(unit, ciso)
    action_services.add_update(
        actor=bu_member,
        action=action,
        files=[SimpleUploadedFile("note.txt", b"done", content_type="text/plain")],
    )
    evidence = Evidence.objects.get()
    member = login_as(bu_member)
    for url in [
        "/",
        "/actions/",
        f"/actions/{action.pk}/",
        "/actions/?export=csv",
        "/actions/?export=xlsx",
        f"/actions/{action.pk}/evidence/{evidence.pk}/",
        "/api/v1/actions/",
        f"/api/v1/actions/{action.pk}/",
        "/no-such-page/",
    ]:
        response = member.get(url)
        assert response.status_code in {200, 404}, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url
    meeting = make_meeting(build_committee(secretary))
    pack = login_as(chair).get(f"/meetings/{meeting.pk}/agenda.pdf")
    assert pack.status_code == 200 and "no-store" in pack["Cache-Control"]
    static = client.get("/static/css/rcc.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


def quick_start_environment() -> dict[str, str]:
    """The variables `make run` gives web, worker and beat, read from what make would run."""
    require_service("make", shutil.which("make") is not None)  # a failure in CI, never a skip
    plan = subprocess.run(
        ["make", "-n", "-s", "run", "PORT=8765"],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    start = next(line for line in plan.splitlines() if "honcho start" in line)
    assignments = itertools.takewhile(lambda word: "=" in word, shlex.split(start))
    variables = dict(word.split("=", 1) for word in assignments)
    del variables["PATH"]  # the virtualenv's bin first: this test runs in that virtualenv
    return variables


def test_the_quick_start_runs_with_debug_off_in_demo_mode():
    variables = quick_start_environment()
    assert variables["DEBUG"] == "0" and variables["DEMO_MODE"] == "1"
    assert "SECRET_KEY" not in variables  # demo mode makes and keeps its own


@pytest.mark.django_db
def test_the_quick_starts_web_process_serves_people_with_debug_off(tmp_path):
    """The Procfile's web process, as `make run` starts it: pages, static files (no DEBUG, so
    whitenoise serves them), and the product's own 404, never Django's technical page."""
    from tests.conftest import database_url_for_subprocess, stop

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    web = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    command = shlex.split(web.removeprefix("web:").replace("${RCC_PORT:-8000}", str(port)))
    command[0] = sys.executable if command[0] == "python" else command[0]
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DEMO_MODE"}}
    env.update(quick_start_environment())
    env.update(RCC_VAR_DIR=str(tmp_path), DATABASE_URL=database_url_for_subprocess())
    log = (tmp_path / "web.log").open("w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def fetch(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(base + path, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = fetch("/accounts/login/")
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "web.log").read_text()
                assert time.monotonic() < deadline, "the web process did not start"
                time.sleep(0.5)
        assert status == 200
        assert fetch("/static/css/rcc.css")[0] == 200
        assert fetch("/static/vendor/bootstrap/bootstrap.min.css")[0] == 200
        assert fetch("/static/favicon.svg")[0] == 200
        status, page = fetch("/no-such-page/")
        assert status == 404
        assert 'data-testid="error-page"' in page
        assert "DEBUG = True" not in page and "URLconf" not in page  # Django's technical 404
    finally:
        stop(server)
        log.close()
    assert (tmp_path / "secret-key").exists()
