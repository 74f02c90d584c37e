"""Writes of the patients domain, one module per noun. Import from the submodule."""
