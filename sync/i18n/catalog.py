"""The English text of every message the APIs and the command line say, as templates for the catalog.

A message a person reads outside a page is built in English where it happens (``HTTPException(404,
f"unknown zone {zone!r}")``, ``err.print(f"... {exc}")``), in route and command modules that several
people edit at once. Rather than thread a language through each of them, the message's English
*template* is listed here, marked with ``N_`` so that ``make i18n`` extracts it into the Babel catalog
like any page string; ``sync.i18n.Messages`` recognises a finished English message by its template,
pulls out the values (``%(zone)s``) and renders the Chinese template with them.

Placeholder names say what a value is. Most are kept as sent (codes, names, numbers); those named in
``sync.i18n.NESTED`` (``reason``, ``error``...) are messages themselves and are translated in turn.
A new message needs its template here and its Chinese in ``sync/web/locale/zh_Hans_messages.py``;
``tests/sync/test_i18n_messages.py`` finds every literal error message in the API and CLI sources
and fails on one no template covers.
"""

from __future__ import annotations

from typing import Final

from sync.web.i18n import N_

CODES: Final[dict[str, str]] = {
    # the fallback sentence of each error code, for a detail no template covers (said before it)
    "bad_request": N_("The request cannot be read"),
    "unauthorized": N_("Not authenticated"),
    "forbidden": N_("Not allowed"),
    "not_found": N_("Not found"),
    "method_not_allowed": N_("Method not allowed"),
    "not_acceptable": N_("Not acceptable"),
    "conflict": N_("Conflicts with what is stored"),
    "gone": N_("No longer available"),
    "too_large": N_("Request too large"),
    "unsupported_media_type": N_("Unsupported content type"),
    "validation_error": N_("Invalid value"),
    "too_many_requests": N_("Too many requests"),
    "internal_error": N_("Internal error"),
    "unavailable": N_("Temporarily unavailable"),
    "error": N_("Error"),
    "unknown_sku": N_("Unknown SKU"),
    "unknown_location": N_("Unknown location"),
    "invalid": N_("Invalid operation"),
    "insufficient_stock": N_("Insufficient stock"),
    "op_id_conflict": N_("Operation ID already used"),
    "lot_required": N_("Lot required"),
    "closed": N_("The journal is closed"),
    "out_of_range": N_("Number out of range"),
    "invalid_value": N_("Invalid value"),
    "rules_invalid": N_("Rules refused"),
    "task_invalid": N_("Invalid task"),
    "illegal_transition": N_("Not possible in the task's state"),
    "unknown_task": N_("Unknown task"),
    "not_allowed": N_("Not allowed"),
    "unknown_operator": N_("Unknown operator"),
    "work_order_invalid": N_("Invalid work order"),
    "unknown_work_order": N_("Unknown work order"),
    "already_closed": N_("Already closed"),
}

API: Final = (
    # sync.http: the shared error handlers and limits
    N_("invalid %(where)s: %(reason)s"),
    N_("invalid %(where)s: %(reason)s (and %(more)s more)"),
    N_("invalid request"),
    N_("internal error; it has been logged"),
    N_("a number is out of range: %(detail)s"),
    N_("a NUL byte is not allowed"),
    N_("invalid %(where)s: a NUL byte is not allowed"),
    N_("request body larger than the limit of %(limit)s"),
    N_("request body is not valid gzip: %(detail)s"),
    N_("inflated request body larger than the limit of %(limit)s"),
    N_("unknown %(name)s %(tag)s"),
    N_("unknown %(name)s %(tag)s; valid: %(valid)s"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("error"),
    # cloud: authentication, roles and scopes
    N_("missing bearer token"),
    N_("unknown token"),
    N_("token expired"),
    N_("wrong username or password"),
    N_("role %(role)s may not do this"),
    N_("a gateway may act only for itself"),
    N_("unknown gateway"),
    N_("%(who)s is bound to warehouse %(bound)s; this view spans the network"),
    N_("%(who)s is bound to warehouse %(bound)s, not %(warehouse)s"),
    N_("warehouse %(warehouse)s is outside your scope"),
    N_("log in first"),
    N_("cross-site form post refused"),
    N_("register gateways at /v1/gateways"),
    N_("gateways are registered with 'gateway add', not as users"),
    N_("'gateway' is not a role a person can hold"),
    N_("user %(user)s already exists (role %(role)s)"),
    N_("user %(user)s already exists (role %(role)s, warehouse %(warehouse)s)"),
    N_("no user %(user)s"),
    N_("gateway %(gateway)s already exists (warehouse %(warehouse)s)"),
    N_("gateway %(gateway)s already exists (warehouse %(warehouse)s, revoked)"),
    N_("no gateway %(gateway)s"),
    N_(
        "gateway %(gateway)s has sent %(n)s ops: revoke it instead, or remove it with --force (its ops stay in the ledger)"
    ),
    # cloud: ingest, commands, master data, stock, telemetry, sites
    N_("only a gateway pushes ops"),
    N_("only a gateway pushes telemetry"),
    N_("only a gateway reports its status"),
    N_("only the gateway itself imports its site's records"),
    N_("only the gateway itself, admins and planners read commands"),
    N_("body is not JSON: %(detail)s"),
    N_('body must be {"ops": [op, ...]}'),
    N_("at most %(n)s ops per batch"),
    N_("every op must be a JSON object"),
    N_("database unavailable; retry later"),
    N_("concurrent conflicting write; retry"),
    N_("a number in the body is out of range (integers are at most 64 bits)"),
    N_("unknown command"),
    N_("command_id already used"),
    N_("command_id already used for another command"),
    N_("unknown SKU"),
    N_("body code %(body)s differs from path %(path)s"),
    N_("site records need a warehouse"),
    N_("unknown work order"),
    N_("work order %(wo)s belongs to gateway %(gateway)s: close it there"),
    # cloud: the web pages' JSON and the reports
    N_("no panel %(name)s"),
    N_("no report %(name)s"),
    N_("no format %(fmt)s: json, csv or xlsx"),
    N_("no rates for warehouse %(warehouse)s"),
    N_("unknown language %(lang)s"),
    N_("query parameter %(param)s: %(reason)s"),
    N_("query parameter 'by': one of %(choices)s"),
    N_("not a warehouse code"),
    N_("one of %(choices)s"),
    N_("a date as YYYY-MM-DD (%(error)s)"),
    N_("after 'to'"),
    N_("at most %(n)s days from 'to'"),
    N_("reports are computed in PostgreSQL: set WIMS_DATABASE_URL to a postgresql:// database"),
    # the gateway: its token, journal refusals, zones, photos
    N_("this gateway's API needs its token: send Authorization: Bearer <token> (see [api] token_file)"),
    N_("unknown SKU %(sku)s"),
    N_("unknown location %(location)s"),
    N_("SKU %(sku)s is lot-tracked: the op must name a lot"),
    N_("%(status)s stock of %(sku)s lot %(lot)s at %(location)s is %(have)s, the op takes %(take)s"),
    N_("op_id %(op_id)s was already used for another op"),
    N_("no op with seq %(seq)s"),
    N_("unknown zone %(zone)s"),
    N_("%(actor)s is not a supervisor: held stock in %(zone)s stays on hold"),
    N_("a photo may have at most %(n)s bytes"),
    N_("a photo must be JPEG, PNG or WebP"),
    N_("no such photo"),
    N_("the journal is closed"),
    # the gateway: floor tasks, work orders, rules
    N_("to %(what)s you need a session of an operator with role %(roles)s"),
    N_("operator %(who)s may not %(what)s: that needs role %(roles)s"),
    N_("override a task's role or zone"),
    N_("no task %(task)s"),
    N_("claiming a task needs a session (or, without one, operator in the body)"),
    N_("mine=1 needs a session (or, without one, operator=<id>)"),
    N_("no work order %(wo)s"),
    N_("say what the exception is about: fact_key, or at least one of ref, sku, location"),
    N_("photo_base64 is not valid base64"),
    N_("photo_base64 must be a JPEG, PNG or WebP image"),
    N_("closing a work order needs a session, or an actor holding its role"),
    N_("the rules runner is not running on this gateway"),
    N_("task %(task)s is %(state)s: cannot %(transition)s it (%(reason)s)"),
    N_("unknown transition %(transition)s (one of %(choices)s)"),
    N_("%(transition)s is allowed from %(states)s only"),
    N_("task %(task)s: %(name)s is not set at creation"),
    N_("task %(task)s: assign needs an assignee (an operator id or %(fleet)s)"),
    N_("task %(task)s: assign needs an assignee"),
    N_("task %(task)s: %(transition)s needs a reason"),
    N_("task %(task)s is for role %(role)s; operator %(who)s has %(roles)s"),
    N_("task %(task)s is in zone %(zone)s; operator %(who)s works %(zones)s"),
    N_("task %(task)s: no operator %(who)s in this site's master data"),
    N_("work order for %(fact)s: the SLA must be positive, got %(sla)s"),
    N_("work order %(wo)s: closing needs a reason"),
    N_("work order %(wo)s is closed already"),
    N_("%(who)s may not close work order %(wo)s: it is routed to %(role)s; closing needs role %(roles)s"),
    N_("%(source)s: rules refused, the rule set in force (%(hash)s) stays"),
    # sync: the models' own rules (pydantic value errors)
    N_("from_warehouse and to_warehouse must differ"),
    N_("from_location and to_location must differ"),
    N_("temp_min_c must be below temp_max_c"),
    N_("GTIN %(gtin)s has a bad check digit (it should end in %(digit)s)"),
    N_("qty_delta must not be zero"),
    N_("delta %(delta)s != counted_qty %(counted)s - book_qty %(book)s"),
    N_("timestamp must carry a timezone (UTC)"),
    N_("kind %(kind)s does not match payload kind %(payload)s"),
)

PYDANTIC: Final[dict[str, tuple[str, ...]]] = {
    # pydantic's own messages by error type, as ``{name}`` became ``%(name)s`` (a test compares them
    # with pydantic's templates, so an upgrade that rewords one is noticed)
    "missing": (N_("Field required"),),
    "extra_forbidden": (N_("Extra inputs are not permitted"),),
    "int_type": (N_("Input should be a valid integer"),),
    "int_parsing": (N_("Input should be a valid integer, unable to parse string as an integer"),),
    "int_from_float": (N_("Input should be a valid integer, got a number with a fractional part"),),
    "int_parsing_size": (N_("Unable to parse input string as an integer, exceeded maximum size"),),
    "float_type": (N_("Input should be a valid number"),),
    "float_parsing": (N_("Input should be a valid number, unable to parse string as a number"),),
    "finite_number": (N_("Input should be a finite number"),),
    "bool_type": (N_("Input should be a valid boolean"),),
    "bool_parsing": (N_("Input should be a valid boolean, unable to interpret input"),),
    "string_type": (N_("Input should be a valid string"),),
    "string_unicode": (N_("Input should be a valid string, unable to parse raw data as a unicode string"),),
    "string_too_short": (
        N_("String should have at least %(min_length)s character"),
        N_("String should have at least %(min_length)s characters"),
    ),
    "string_too_long": (
        N_("String should have at most %(max_length)s character"),
        N_("String should have at most %(max_length)s characters"),
    ),
    "string_pattern_mismatch": (N_("String should match pattern '%(pattern)s'"),),
    "too_short": (
        N_("%(field_type)s should have at least %(min_length)s item after validation, not %(actual_length)s"),
        N_("%(field_type)s should have at least %(min_length)s items after validation, not %(actual_length)s"),
    ),
    "too_long": (
        N_("%(field_type)s should have at most %(max_length)s item after validation, not %(actual_length)s"),
        N_("%(field_type)s should have at most %(max_length)s items after validation, not %(actual_length)s"),
    ),
    "greater_than": (N_("Input should be greater than %(gt)s"),),
    "greater_than_equal": (N_("Input should be greater than or equal to %(ge)s"),),
    "less_than": (N_("Input should be less than %(lt)s"),),
    "less_than_equal": (N_("Input should be less than or equal to %(le)s"),),
    "multiple_of": (N_("Input should be a multiple of %(multiple_of)s"),),
    "literal_error": (N_("Input should be %(expected)s"),),
    "enum": (N_("Input should be %(expected)s"),),
    "list_type": (N_("Input should be a valid list"),),
    "dict_type": (N_("Input should be a valid dictionary"),),
    "model_type": (N_("Input should be a valid dictionary or instance of %(class_name)s"),),
    "model_attributes_type": (N_("Input should be a valid dictionary or object to extract fields from"),),
    "json_invalid": (N_("Invalid JSON: %(error)s"), N_("JSON decode error")),  # the second is FastAPI's
    "json_type": (N_("JSON input should be string, bytes or bytearray"),),
    "date_type": (N_("Input should be a valid date"),),
    "date_parsing": (N_("Input should be a valid date in the format YYYY-MM-DD, %(error)s"),),
    "date_from_datetime_parsing": (N_("Input should be a valid date or datetime, %(error)s"),),
    "datetime_type": (N_("Input should be a valid datetime"),),
    "datetime_parsing": (N_("Input should be a valid datetime, %(error)s"),),
    "datetime_from_date_parsing": (N_("Input should be a valid datetime or date, %(error)s"),),
    "timezone_aware": (N_("Input should have timezone info"),),
    "decimal_type": (N_("Decimal input should be an integer, float, string or Decimal object"),),
    "decimal_parsing": (N_("Input should be a valid decimal"),),
    "decimal_max_digits": (
        N_("Decimal input should have no more than %(max_digits)s digit in total"),
        N_("Decimal input should have no more than %(max_digits)s digits in total"),
    ),
    "decimal_max_places": (
        N_("Decimal input should have no more than %(decimal_places)s decimal place"),
        N_("Decimal input should have no more than %(decimal_places)s decimal places"),
    ),
    "decimal_whole_digits": (
        N_("Decimal input should have no more than %(whole_digits)s digit before the decimal point"),
        N_("Decimal input should have no more than %(whole_digits)s digits before the decimal point"),
    ),
    "uuid_type": (N_("UUID input should be a string, bytes or UUID object"),),
    "uuid_parsing": (N_("Input should be a valid UUID, %(error)s"),),
    "url_parsing": (N_("Input should be a valid URL, %(error)s"),),
    "union_tag_not_found": (N_("Unable to extract tag using discriminator %(discriminator)s"),),
    "value_error": (N_("Value error, %(error)s"),),
    "assertion_error": (N_("Assertion failed, %(error)s"),),
    "string_nul": (N_("a NUL byte is not allowed"),),
}

CLI: Final = (
    # wims edge ... / wims reconcile ...
    N_("[red]config error[/red] %(error)s"),
    N_("[red]no journal at %(path)s[/red] (has `wims edge run` started for this site?)"),
    N_("verifying journal..."),
    N_("verifying journal... %(n)s ops"),
    N_("[red]chain broken[/red] at %(where)s"),
    N_(
        "[red]projection differs[/red] %(sku)s %(lot)s %(location)s %(status)s: stored %(stored)s, "
        "journal says %(computed)s"
    ),
    N_("[green]ok[/green] %(ops)s ops, chain verifies to seq %(seq)s (%(hash)s), projection matches"),
    N_("[red]not JSON[/red]: %(error)s"),
    N_("[red]invalid op[/red] %(where)s: %(reason)s"),
    N_("[red]rejected[/red] %(code)s: %(reason)s"),
    N_("stock at %(warehouse)s"),
    N_("sync of %(gateway)s -> %(url)s (%(source)s)"),
    N_("(no cloud configured)"),
    N_("running gateway"),
    N_("journal"),
    N_("not running"),
    N_("sync not configured"),
    N_("[red]no cloud URL[/red]: pass --cloud or set [sync] url in the site config"),
    N_("[red]cannot read the cloud's stock[/red]: %(error)s"),
    N_("[green]no difference[/green]: %(n)s stock lines of %(warehouse)s agree with the cloud"),
    N_("%(n)s differences at %(warehouse)s"),
    N_("simulator %(name)s is not available: %(error)s"),
    # wims edge rules ...
    N_("%(source)s: %(n)s rules ok"),
    N_("rule set hash %(hash)s"),
    N_("%(status)s: %(n)s rules, hash %(hash)s (was %(previous)s)"),
    N_("reloaded"),
    N_("unchanged"),
    N_("no rule fires on this %(kind)s (%(n)s rules, hash %(hash)s)"),
    N_("[yellow]no journal at %(path)s[/yellow]: stock read as empty"),
    N_("[bold]rule %(rule)s[/bold] fires on this %(kind)s (rule set %(hash)s):"),
    N_("  records %(kind)s %(detail)s"),
    N_("  would %(reason)s"),
    N_("  %(problem)s"),
    N_("[red]rules refused[/red] %(reason)s"),
    N_("[red]reload failed[/red] HTTP %(code)s: %(reason)s"),
    N_("[red]cannot read[/red] %(source)s: %(reason)s"),
    N_("[red]invalid op or event[/red] %(source)s: %(error)s"),
    N_("expected one JSON object (an op or an event)"),
    N_("[red]the gateway does not answer[/red] at %(url)s: %(error)s"),
    N_("[red]unknown event[/red] %(name)s; known: %(valid)s"),
    # wims cloud ...
    N_(
        "[yellow]several workers on SQLite: live events reach only the subscribers of the worker that wrote; "
        "use PostgreSQL (LISTEN/NOTIFY) for more than one worker[/yellow]"
    ),
    N_("database at revision %(revision)s"),
    N_("audit log OK: %(n)s entries"),
    N_("[red]audit log broken at entry %(entry)s: %(reason)s[/red] (%(n)s good before it)"),
    N_(
        "[red]WIMS_DATABASE_URL is not set[/red]: export WIMS_DATABASE_URL=postgresql://user@host:5432/wims "
        "(or sqlite:///path/to/wims.sqlite)"
    ),
    N_("[red]WIMS_DATABASE_URL is not a database URL[/red] (%(url)s): %(detail)s"),
    N_("[red]the database at %(url)s has no WIMS tables[/red]: run `wims cloud migrate`"),
    N_("[red]cannot reach the database at %(url)s[/red]: %(detail)s"),
    N_("[red]the database at %(url)s is not a WIMS database[/red] (%(detail)s): run `wims cloud migrate`"),
    N_("[red]%(error)s[/red]"),
    N_("gateway %(gateway)s revoked: its token no longer works"),
    N_("gateway %(gateway)s removed"),
    N_("gateway %(gateway)s removed; its %(n)s ops stay in the ledger"),
    N_("[red]password must have at least 8 characters[/red]"),
    N_("[red]cannot add user: %(error)s[/red]"),
    N_("user %(user)s (%(role)s) added"),
    N_("user %(user)s (%(role)s, warehouse %(warehouse)s) added"),
    N_("user %(user)s is now %(role)s"),
    N_("password of %(user)s reset; their logins ended"),
    N_("user %(user)s disabled"),
    N_("user %(user)s enabled"),
    N_("password: "),
    N_(
        "%(file)s -> %(warehouse)s: %(added)s added, %(updated)s updated, %(unchanged)s unchanged; "
        "%(queued)s master_data commands queued for gateways"
    ),
    N_(
        "%(file)s -> %(warehouse)s: %(added)s added, %(updated)s updated, %(unchanged)s unchanged, "
        "%(kept)s kept as the cloud has them; %(queued)s master_data commands queued for gateways"
    ),
    N_("[red]%(error)s[/red] (and %(more)s more)"),
    # wims demo
    N_("[bold]WIMS demo: %(name)s"),
    N_("journal: %(path)s"),
    N_("simulated devices: %(devices)s"),
    N_("gateway %(gateway)s API on %(base)s  (try %(base)s/v1/stock, /healthz, /metrics)"),
    N_("[bold]scanner[/bold] at the dock read %(sent)s GS1 case labels -> %(n)s receive ops"),
    N_("[bold]modbus[/bold]: compressor failure in zone %(zone)s; waiting for the cold-chain rules..."),
    N_("  temp_alarm %(alarm)s %(state)s in %(zone)s: %(value)s C (limit %(limit)s)"),
    N_("  %(n)s qc_hold ops froze the zone's stock; work order %(wo)s opened for the zone's supervisor"),
    N_("  release by an operator: refused (%(code)s)"),
    N_("  release by supervisor %(who)s: %(n)s ops"),
    N_("last ops in the journal"),
    N_("stock"),
    N_("accepted %(n)s ops; refused %(m)s:"),
    N_("  [yellow]%(reason)s[/yellow]"),
    N_("health: %(status)s, journal head seq %(seq)s"),
    N_("  %(name)s: %(status)s (%(detail)s)"),
    N_("hash chain of %(n)s ops %(verdict)s; projection matches the journal"),
    N_("hash chain of %(n)s ops %(verdict)s; projection DIFFERS"),
    N_("[green]verifies[/green]"),
    N_("[red]FAILS[/red] %(where)s"),
)

COLUMNS: Final = (
    # table headings the commands print (their --json keys stay English)
    N_("seq"),
    N_("kind"),
    N_("actor"),
    N_("occurred_at"),
    N_("payload"),
    N_("hash"),
    N_("sku"),
    N_("lot"),
    N_("location"),
    N_("status"),
    N_("qty"),
    N_("edge"),
    N_("cloud"),
    N_("gateway"),
    N_("warehouse"),
    N_("acked seq"),
    N_("pending commands"),
    N_("registered"),
    N_("revoked"),
    N_("user"),
    N_("role"),
    N_("created"),
    N_("disabled"),
    N_("what"),
    N_("id"),
    N_("on"),
    N_("when"),
    N_("actions"),
    N_("enabled"),
)

SYNC_FACTS: Final = {
    # the rows of `wims edge sync status` (edge.health, edge.uplink), by key; --json keeps the keys
    "status": N_("status"),
    "detail": N_("detail"),
    "since": N_("since"),
    "acked_seq": N_("acknowledged up to seq"),
    "head_seq": N_("journal head seq"),
    "backlog_ops": N_("backlog (ops)"),
    "backlog_bytes": N_("backlog (bytes)"),
    "oldest_unacked_recorded_at": N_("oldest unacknowledged op recorded at"),
    "oldest_unacked_age_s": N_("age of the oldest unacknowledged op (s)"),
    "last_success_at": N_("last success"),
    "last_error": N_("last error"),
    "last_error_at": N_("last error at"),
    "consecutive_errors": N_("consecutive errors"),
    "duplicates_reported_by_cloud": N_("duplicates reported by the cloud"),
    "quarantined_by_cloud": N_("quarantined by the cloud"),
    "cloud_regressions": N_("cloud regressions"),
    "lost_ranges": N_("lost ranges"),
    "command_cursor": N_("command cursor"),
    "commands_applied": N_("commands applied"),
    "telemetry_aggregates_sent": N_("telemetry aggregates sent"),
}

STOCK_STATUSES: Final = (N_("available"), N_("reserved"), N_("qc_hold"), N_("damaged"))
"""The stock statuses (sync.ops.StockStatus) as a journal refusal names them."""

SYNC_STATES: Final = (N_("ok"), N_("degraded"), N_("down"), N_("starting"))

NESTED_TEXT: Final = (
    # parts of other messages: config problems, the operating system's and the parsers' words
    N_("cannot read: %(reason)s"),
    N_("not valid TOML: %(detail)s"),
    N_("duplicate %(key)s"),
    N_("missing"),
    N_("unknown zone %(zone)s"),
    N_("unknown sku %(sku)s"),
    N_("%(reason)s (and %(more)s more)"),
    N_("No such file or directory"),
    N_("Permission denied"),
    N_("Is a directory"),
    N_("Connection refused"),
    N_("%(problem)s: line %(line)s column %(column)s (char %(char)s)"),  # Python's JSON decoder
    N_("Expecting value"),
    N_("Extra data"),
    N_("Expecting property name enclosed in double quotes"),
    N_("Expecting ',' delimiter"),
    N_("Expecting ':' delimiter"),
    N_("Unterminated string starting at"),
    N_("Invalid control character at"),
    N_("input is too short"),
    N_("input is too long"),
    N_("invalid character in year"),
    N_("invalid date separator, expected `-`"),
    N_("unexpected extra characters at the end of the input"),
    N_(
        "host %(host)s is reachable from the network, so the API needs a token: set api.token_file "
        "(or api.token), or listen on 127.0.0.1"
    ),
    N_("api.token_file %(file)s: cannot read: %(reason)s"),
    N_("api.token_file %(file)s: the token must have at least 16 characters"),
    N_("sync.url is set but neither sync.token nor sync.token_file is"),
    N_("password must have at least 8 characters"),
)

HELP: Final = (
    # help made of parts in wims/cli.py (the rest of the commands' help is extracted by sync.i18n.extract)
    N_("%(text)s `wims cloud --help` lists its commands."),
    N_("%(text)s Options are the simulator's own: `wims sim %(name)s --help`."),
)

TYPER: Final = (
    # typer's and click's own words in a help page (sync.i18n.console.localize_help)
    N_("Arguments"),
    N_("Options"),
    N_("Commands"),
    N_("Error"),
    N_("Aborted."),
    N_("[required]"),
    N_("[default: {}]"),
    N_("[env var: {}]"),
    N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
)
