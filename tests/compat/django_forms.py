"""A Django site's form with django-hCaptcha's or django-turnstile's field, settings changed only
by the verify URL, validating one token. Run as a process of its own (Django's settings are one
per process): `python -m tests.compat.django_forms LIBRARY VERIFY_URL SECRET TOKEN`; prints
{"passed": bool, "codes": [the ValidationError codes]}."""

from __future__ import annotations

import json
import sys


def main(library: str, verify_url: str, secret: str, token: str) -> None:
    import django
    from django.conf import settings

    prefix = {"django-hcaptcha": "HCAPTCHA", "django-turnstile": "TURNSTILE"}[library]
    settings.configure(
        INSTALLED_APPS=["hcaptcha" if prefix == "HCAPTCHA" else "turnstile"],
        **{f"{prefix}_VERIFY_URL": verify_url, f"{prefix}_SECRET": secret},
    )
    django.setup()
    from django import forms

    if prefix == "HCAPTCHA":
        from hcaptcha.fields import hCaptchaField as Field
    else:
        from turnstile.fields import TurnstileField as Field

    class SignupForm(forms.Form):
        captcha = Field()

    posted = "h-captcha-response" if prefix == "HCAPTCHA" else "cf-turnstile-response"
    form = SignupForm({posted: token})
    passed = form.is_valid()
    codes = [error.code for error in form.errors.as_data().get("captcha", [])]
    print(json.dumps({"passed": passed, "codes": codes}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
