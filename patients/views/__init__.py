"""Pages of the patients domain, one module per subject. Import from the submodule."""
