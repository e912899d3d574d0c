"""Package data (kept a package so setuptools installs it without warnings)."""
