"""hashkit: models, losses, metrics and the search index behind the learning-to-hash study."""

__version__ = "0.1.0"
