"""Image features for the shallow and unsupervised methods, and how good their neighbourhoods are.

* :func:`extract_features` — features of a dataset's items by source name: ``"pixels"``,
  ``"learned"`` (the better label-free network, trained on the split's training pixels only),
  ``"autoencoder"``, ``"contrastive"``, ``"torchvision:<arch>"`` (local ImageNet weights only);
  cached on disk.
* :func:`knn_label_precision` — precision of the k nearest neighbours' labels against k (BGAN's
  Fig. 2), the measure by which the default label-free source was chosen;
  :func:`compare_feature_sources` tabulates it for several sources on one split.
"""

from hashkit.features.cache import CorruptCacheWarning, FeatureCache, default_cache_dir
from hashkit.features.comparison import compare_feature_sources
from hashkit.features.extract import FEATURE_SOURCES, extract_features
from hashkit.features.learned import DEFAULT_LEARNED_METHOD
from hashkit.features.neighbourhood import knn_label_precision

__all__ = [
    "CorruptCacheWarning",
    "DEFAULT_LEARNED_METHOD",
    "FEATURE_SOURCES",
    "FeatureCache",
    "compare_feature_sources",
    "default_cache_dir",
    "extract_features",
    "knn_label_precision",
]
