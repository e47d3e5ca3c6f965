"""The development outbox: ``make run`` prints each email as one line (subject, recipient, links)
instead of thousands of lines of HTML, and keeps the full message for ``/dev/outbox/`` (DEBUG only).

The backend is the default only when DEBUG is on and no ``EMAIL_URL`` is set (settings); production
sends through SMTP and tests use Django's locmem backend.
"""
import re
import sys
import threading
from email import message_from_bytes, policy
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

LINK = re.compile(r"https?://[^\s<>\"')]+")
_counter = threading.Lock()


def outbox_dir() -> Path:
    return Path(settings.VAR_DIR) / "outbox"


def links_in(text: str) -> list[str]:
    seen = []
    for link in LINK.findall(text):
        if link not in seen:
            seen.append(link)
    return seen


class OutboxEmailBackend(BaseEmailBackend):
    """Stores each message as ``var/outbox/<time>-<n>.eml`` and prints one line about it."""

    def send_messages(self, email_messages):
        directory = outbox_dir()
        directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _counter:
                stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
                name = f"{stamp}-{sent}"
                (directory / f"{name}.eml").write_bytes(message.message().as_bytes())
            links = links_in(message.body)
            line = (f"[email] {message.subject} → {', '.join(message.to)}"
                    + (f" | links: {' '.join(links)}" if links else "")
                    + f" | full message: {settings.SITE_URL}/dev/outbox/{name}/")
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            sent += 1
        return sent


def outbox_list(limit: int = 100) -> list[dict]:
    """The newest stored messages first: name, subject, recipient, date."""
    directory = outbox_dir()
    if not directory.is_dir():
        return []
    items = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:limit]:
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        items.append({"name": path.stem, "subject": parsed["subject"], "to": parsed["to"], "date": parsed["date"]})
    return items


def outbox_get(name: str) -> dict | None:
    """One stored message: headers, its text body and links, its HTML part (if any)."""
    if not re.fullmatch(r"[0-9-]+", name):
        return None
    path = outbox_dir() / f"{name}.eml"
    if not path.is_file():
        return None
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    body = text.get_content() if text else ""
    return {"name": name, "subject": parsed["subject"], "to": parsed["to"], "from": parsed["from"],
            "date": parsed["date"], "body": body, "links": links_in(body),
            "html": html.get_content() if html else ""}
