"""Webhook methods of the fake (setWebhook, deleteWebhook, getWebhookInfo) and delivery."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import aiohttp

from tests.fakes.telegram_state import FakeState, Params, Webhook, bad_request
from tests.fakes.telegram_world import JSON

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


async def set_webhook(state: FakeState, params: Params) -> bool:
    """setWebhook: an http(s) URL (as a self-hosted server allows) and an optional secret."""
    url = params.text("url") or ""
    if not url:
        return await delete_webhook(state, params)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.text("secret_token")
    if secret is not None and not SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = params.decoded("allowed_updates")
    if allowed is not None:
        state.updates.allowed = frozenset(allowed)
    if params.flag("drop_pending_updates"):
        state.updates.clear()
    state.webhook = Webhook(url, secret, allowed, params.integer("max_connections") or 40)
    state.signal.fire()
    return True


async def delete_webhook(state: FakeState, params: Params) -> bool:
    """deleteWebhook: forget the webhook; optionally drop pending updates."""
    if params.flag("drop_pending_updates"):
        state.updates.clear()
    state.webhook = None
    state.signal.fire()
    return True


async def get_webhook_info(state: FakeState, params: Params) -> JSON:
    """getWebhookInfo: the URL ("" when polling) and how many updates wait."""
    hook = state.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates.pending),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
    return info


async def deliver(state: FakeState, update: JSON, secret_token: str | None) -> int:
    """POST an update to the webhook as Telegram does; the update is forgotten on 200."""
    hook = state.webhook
    if hook is None:
        raise LookupError("no webhook is set")
    headers = {SECRET_HEADER: secret_token} if secret_token is not None else {}
    timeout = aiohttp.ClientTimeout(total=10)
    async with (aiohttp.ClientSession(timeout=timeout) as session,
                session.post(hook.url, json=update, headers=headers) as response):
        status = response.status
    if status == 200:
        state.updates.pending = [u for u in state.updates.pending if u is not update]
        state.signal.fire()
    return status
