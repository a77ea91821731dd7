"""Sphinx configuration of the course's website (``make site``; ``site/build.py`` runs it).

The site is Jupyter Book 1's engine used directly: Sphinx, myst-nb (notebooks and Markdown) and
the Sphinx Book Theme. ``build.py`` assembles the source folder (the README as ``index.md``,
every ``notebooks/*.ipynb``) and passes this folder as the configuration directory.
"""

project = "mlops-course"
author = "the mlops-course authors"
html_title = "mlops-course"

extensions = ["myst_nb"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3  # the README's "#section" links keep working on the home page
exclude_patterns = ["**.ipynb_checkpoints"]
# The README links into the repository (exercises/, deploy/…), which is not part of the site.
suppress_warnings = ["myst.xref_missing"]

# Every notebook is executed during the build, and the site shows that run's outputs. build.py
# overrides the mode and the cache folder (-D) and provides the MLflow server and the target.
nb_execution_mode = "cache"
nb_execution_timeout = 900  # seconds per cell: serving and monitoring cells take a while here
nb_execution_raise_on_error = True  # a cell that raises fails the build (no page with a traceback)
nb_execution_show_tb = True
nb_merge_streams = True

html_theme = "sphinx_book_theme"
html_theme_options = {
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
}
html_show_sourcelink = False
html_last_updated_fmt = ""
# No widget JavaScript from a CDN: the site works offline (build.py turns progress bars off).
nb_ipywidgets_js: dict = {}
