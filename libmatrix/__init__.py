"""What each Python JOSE library checks for you, measured against the book's hostile corpus.

Outside the ``joselab`` package on purpose: joselab must not depend on PyJWT, joserfc, jwcrypto's
high-level JWT API or Authlib. ``python -m libmatrix`` (``make matrix``) runs every case of
``tests/hostile`` that a scenario's validator refuses through each library's recommended validation
(:mod:`libmatrix.recipes`), once as the library's docs advise and once per named option, and writes
``book/libraries.md`` and ``libmatrix/results.json``. Nothing in the output depends on the run: the
libraries run on a frozen clock (``DEMO_EPOCH``) with the book's published demo keys, and only
exception class names are kept, never messages or timings.
"""
