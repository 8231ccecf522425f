"""What the cloud's pages and the gateway's handheld app share: languages, templates' plumbing, assets.

Why here, in ``sync``: the edge and the cloud never import each other (import-linter checks it), and
``sync`` is already the one package both sides build on. A new top-level package would add a layer to
the contracts for pieces that carry no business logic; copying them into each app would let the two
drift (the same word translated twice, two htmx versions). What lives here is presentation plumbing
only: the Babel message catalog for English and Simplified Chinese (``i18n.py``, ``locale/``), a Jinja2
environment per language with locale-aware filters (``templating.py``), the vendored browser libraries
and the shared stylesheet (``static/``, refreshed by ``make assets``: ``vendor.py``). Each app keeps its
own templates and routes (``cloud/web``, ``edge/api/handheld``).
"""
