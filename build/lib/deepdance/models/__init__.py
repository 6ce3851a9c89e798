"""Backbones, sequence heads and LightningModules."""
