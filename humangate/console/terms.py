"""The operator's terms of service and privacy policy: accepted at sign-up, and again when the
operator publishes a new version (HUMANGATE_TERMS_VERSION)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts.profile import accept_terms
from humangate.api.deps import get_services
from humangate.console._i18n import N_
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    ViewerDep,
    account_client,
    redirect,
    render,
    router,
    safe_next,
    utcnow,
)


def terms_context(request: Request) -> dict[str, str]:
    """What the sign-up and terms pages show: the version and the two links (may be empty)."""
    settings = get_services(request).settings
    return {
        "terms_version": settings.terms_version,
        "terms_url": settings.terms_url,
        "privacy_url": settings.privacy_url,
    }


@router.get("/terms")
async def terms_page(request: Request, viewer: ViewerDep) -> Response:
    context = {**terms_context(request), "next": safe_next(request.query_params.get("next"))}
    return render(request, "terms.html", context, viewer=viewer)


@router.post("/terms")
async def terms_accept(
    request: Request, viewer: ViewerDep, db: DbDep, accounts: AccountsDep, form: CsrfForm
) -> Response:
    version = get_services(request).settings.terms_version
    next_path = safe_next(form.get("next"))
    if not version:
        return redirect(request, next_path)
    if form.get("accept") != "on":
        context = {
            **terms_context(request),
            "next": next_path,
            "error": N_("Tick the box to accept the terms, or log out."),
        }
        return render(request, "terms.html", context, viewer=viewer, status=400)
    await accept_terms(
        accounts, db, viewer.account.id, version, client=account_client(request), now=utcnow()
    )
    return redirect(request, next_path)
