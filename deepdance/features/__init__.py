"""Stored backbone features: a frozen backbone runs once per video, training reads the store."""

from deepdance.features.store import FeatureEntry, FeatureKey, FeatureStore, FeatureStoreError, weights_digest

__all__ = ["FeatureEntry", "FeatureKey", "FeatureStore", "FeatureStoreError", "weights_digest"]
