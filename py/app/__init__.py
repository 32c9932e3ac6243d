"""The browser app: views and wiring on top of the imagesynth core.

Runs in PyScript (Pyodide) on the page's main thread.  Protocol logic lives in
the core (``imagesynth``); this package only reads the form, calls the core,
stores what comes back and shows it.  User text reaches the DOM as text only
(``dom.py``).
"""
