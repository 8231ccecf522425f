"""The cloud's pages: the live network dashboard at ``/`` and the BI reports at ``/reports``.

Datasette's idea, kept throughout: every panel and every report is one query function whose result (a
``Table`` and facts) is rendered by one template partial and served as JSON at the same path with
``.json`` (reports also ``.csv`` and ``.xlsx``). Tests check numbers on the JSON; browser tests check
what a person sees. A new panel is a query function, a partial and one line in ``panels.PANELS``.
"""
