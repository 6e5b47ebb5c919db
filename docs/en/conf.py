"""Sphinx configuration of the fitnets_mm documentation (``docs/en``).

Build it with ``sphinx-build -W -b html docs/en docs/en/_build/html``;
``-W`` turns every warning into an error, as CI does
(``tests/test_docs/test_docs_build.py``).
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)

from fitnets_mm.version import __version__  # noqa: E402

project = 'fitnets_mm'
author = 'fitnets_mm contributors'
copyright = '2026, fitnets_mm contributors'
version = __version__
release = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
master_doc = 'index'
exclude_patterns = ['_build']

# Markdown pages (MyST): `$...$`-free, GitHub-style anchors for headings.
myst_enable_extensions = ['colon_fence']
myst_heading_anchors = 3

# API reference from the docstrings (Google style).
autodoc_member_order = 'bysource'
autodoc_default_options = {'members': True, 'show-inheritance': True}
autodoc_typehints = 'description'
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = 'alabaster'
html_title = f'fitnets_mm {__version__}'
