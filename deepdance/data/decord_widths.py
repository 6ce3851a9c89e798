"""Frame widths decord misreads: the one list, imported by the reader and by the synthetic
generator's settings without importing decord."""

# Output widths at which decord's get_batch fails ("DECORDArrayCopyFromTo: The size must
# exactly match") or returns a wrong-sized array, whether the width is the file's own or a
# decode-time resize. Measured with decord 0.6.0 over widths 4..519 at heights 17, 32 and 224
# (the height does not matter; every other width works); decord2 3.4.0 fails at 16, 24, 48, 72.
# The one list: decode_size steps around them, the synthetic generator refuses such sizes.
DECORD_BAD_WIDTHS = frozenset({4, 6, 8, 12, 16, 24, 48, 72})
