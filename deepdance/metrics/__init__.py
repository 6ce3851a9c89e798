"""Metrics that judge generated motion; ``motion`` scores joint sequences in the field's terms."""
