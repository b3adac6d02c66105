"""humangate.client.django in a real Django app (its request handling, forms and URL routing)
verifying tokens with a real HumanGate server."""

from __future__ import annotations

from collections.abc import Iterator

import django
import httpx
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="django-test-" + "k" * 40,
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        HUMANGATE_URL="http://127.0.0.1:9",
        HUMANGATE_SITEKEY="",
        HUMANGATE_SECRET="",
    )
    django.setup()

from django import forms  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.test import Client as BrowserClient  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from humangate.client import Verification  # noqa: E402
from humangate.client.django import (  # noqa: E402
    HumanGateField,
    HumanGateFormMixin,
    close_clients,
    require_humangate,
)
from tests.client._sockets import closed_port_url  # noqa: E402
from tests.client.conftest import Site  # noqa: E402


class SignupForm(HumanGateFormMixin, forms.Form):
    name = forms.CharField(max_length=40)
    human = HumanGateField(action="signup")


def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SignupForm(request.POST, request=request)
        if form.is_valid():
            human: Verification = form.cleaned_data["human"]
            return JsonResponse({"welcome": form.cleaned_data["name"], "host": human.hostname})
        return JsonResponse({"errors": form.errors}, status=400)
    return HttpResponse(f"<form method=post>{SignupForm().as_p()}</form>")


@require_humangate
def comment(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return HttpResponse("the comment form")
    return HttpResponse(f"saved, checked on {request.humangate.hostname}")


@require_humangate(action="login")
def login(request: HttpRequest) -> HttpResponse:
    return HttpResponse("logged in")


urlpatterns = [path("signup", signup), path("comment", comment), path("login", login)]


@pytest.fixture(scope="module")
def configured(site: Site) -> Iterator[Site]:
    with override_settings(
        HUMANGATE_URL=site.url, HUMANGATE_SITEKEY=site.sitekey, HUMANGATE_SECRET=site.secret
    ):
        yield site
    close_clients()


def test_the_field_draws_the_widget_the_server_serves(configured: Site) -> None:
    page = BrowserClient().get("/signup").content.decode()
    assert f'<div class="humangate" data-sitekey="{configured.sitekey}"' in page
    assert 'data-action="signup"' in page
    script = f"{configured.url}/humangate.js"
    assert f'<script src="{script}" async defer></script>' in page
    assert httpx.get(script).status_code == 200


def test_the_form_is_valid_once_per_token(configured: Site) -> None:
    browser = BrowserClient()
    token = configured.token(action="signup")
    form = {"name": "Ada", "humangate-response": token}
    first = browser.post("/signup", form)
    again = browser.post("/signup", form)
    assert first.status_code == 200
    assert first.json() == {"welcome": "Ada", "host": "localhost"}
    assert again.status_code == 400
    assert again.json()["errors"]["human"] == ["Please complete the human check again."]


def test_the_form_refuses_a_missing_token_or_another_action(configured: Site) -> None:
    browser = BrowserClient()
    missing = browser.post("/signup", {"name": "Ada"})
    other_action = browser.post(
        "/signup", {"name": "Ada", "humangate-response": configured.token(action="login")}
    )
    assert missing.status_code == 400 and "human" in missing.json()["errors"]
    assert other_action.status_code == 400 and "human" in other_action.json()["errors"]


def test_the_decorator_lets_a_verified_post_through_once(configured: Site) -> None:
    browser = BrowserClient()
    token = configured.token()
    assert browser.get("/comment").content == b"the comment form"
    first = browser.post("/comment", {"humangate-response": token})
    replay = browser.post("/comment", {"humangate-response": token})
    assert first.status_code == 200 and first.content == b"saved, checked on localhost"
    assert replay.status_code == 403
    assert browser.post("/comment", {}).status_code == 403
    assert browser.post("/comment", {"humangate-response": "forged"}).status_code == 403


def test_the_decorator_checks_the_action(configured: Site) -> None:
    browser = BrowserClient()
    wrong = browser.post("/login", {"humangate-response": configured.token(action="signup")})
    right = browser.post("/login", {"humangate-response": configured.token(action="login")})
    assert wrong.status_code == 403 and right.status_code == 200


def test_an_unreachable_service_refuses_unless_the_site_chose_open(configured: Site) -> None:
    browser = BrowserClient()
    posted = {"name": "Ada", "humangate-response": "a-token"}
    with override_settings(HUMANGATE_URL=closed_port_url(), HUMANGATE_RETRIES=0):
        assert browser.post("/comment", posted).status_code == 403
        assert browser.post("/signup", posted).status_code == 400
        with override_settings(HUMANGATE_ON_UNREACHABLE="open"):
            assert browser.post("/comment", posted).status_code == 200
            assert browser.post("/signup", posted).status_code == 200
            assert browser.post("/comment", {}).status_code == 403
