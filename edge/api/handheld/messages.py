"""Every string the handheld shows, as English message ids: the page embeds both languages' catalogs,
so the app switches language instantly and offline. The template marks its strings with
``data-t``; ``static/app.js`` calls ``t("...")``; a test checks both use only ids listed here."""

from __future__ import annotations

from sync.web.i18n import LOCALES, N_, gettext_for
from sync.web.labels import OP_KINDS

MESSAGES = (
    N_("WIMS handheld"),
    N_("Home"),
    N_("Receive"),
    N_("QC"),
    N_("Putaway"),
    N_("Pick"),
    N_("Count"),
    N_("Exception"),
    N_("My tasks"),
    N_("Pending"),
    N_("Failed"),
    N_("Online"),
    N_("Offline"),
    N_("Operator"),
    N_("Change"),
    N_("Language"),
    N_("Scan or type, then Enter"),
    N_("Camera"),
    N_("Stop camera"),
    N_("Item"),
    N_("Location"),
    N_("Quantity"),
    N_("Lot"),
    N_("Order"),
    N_("Reason"),
    N_("Detail"),
    N_("Photo"),
    N_("Save"),
    N_("Cancel"),
    N_("Hold"),
    N_("Release"),
    N_("Suggested location"),
    N_("Go to"),
    N_("Scan the location"),
    N_("Scan the item"),
    N_("Wrong location: scan %s"),
    N_("Wrong item: this is not %s"),
    N_("Unknown code: %s"),
    N_("Saved. Waiting to send: %s"),
    N_("Stored by the gateway"),
    N_("Nothing to pick on this order."),
    N_("Order complete"),
    N_("Counted quantity"),
    N_("Your operator ID or badge"),
    N_("Start"),
    N_("Gateway token"),
    N_("This gateway needs its token once on this handheld."),
    N_("Connect"),
    N_("Damaged"),
    N_("Missing"),
    N_("Wrong item"),
    N_("Other"),
    N_("Retry"),
    N_("Discard"),
    N_("Send now"),
    N_("Not sent: %s"),
    N_("Scan the item at the dock"),
    N_("Choose an order"),
    N_("line %s of %s"),
    N_("No suggestion: scan any location"),
    N_("Camera not available here (it needs HTTPS)"),
    N_("Tasks appear here when the gateway assigns them."),
    N_("Staging"),
    N_("QC release needs a supervisor"),
    N_("Available"),
    N_("Book quantity"),
    N_("Inbound order"),
    N_("No open order line for this item"),
    N_("Install the app"),
)
STATIC_IDS = tuple(OP_KINDS.values())


def catalogs() -> dict[str, dict[str, str]]:
    """``{locale: {message id: text}}`` for every language, as the page embeds it."""
    ids = (*MESSAGES, *STATIC_IDS)
    return {locale: {m: gettext_for(locale).gettext(m) for m in ids} for locale in LOCALES}
