"""Video reading, AIST++ names and splits, datamodules and synthetic dancers."""
