"""Default routing rules: which actions each kind of life event calls for."""
