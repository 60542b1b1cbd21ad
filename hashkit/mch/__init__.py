"""Multiple code hashing (MCH, Li, Jiang and Li): several codes per image, chosen by a learned policy.

* :mod:`hashkit.mch.regions` — the random training crops and the five coding regions;
* :mod:`hashkit.mch.coders` — a frozen base model as features and codes of images and regions;
* :mod:`hashkit.mch.agent` — the state, the keep reward, the policy and REINFORCE;
* :mod:`hashkit.mch.extension` — the codes kept per image, and ANHC;
* :mod:`hashkit.mch.framework` — :class:`MCH`, the three put together.
"""

from hashkit.mch.agent import BASE_MODELS, DISCARD, KEEP, AgentSettings, PolicyNetwork, keep_rewards, reward_loss
from hashkit.mch.coders import FeatureCoder, NetworkCoder, encode_regions, whole_image_box
from hashkit.mch.extension import MultiCodes, multi_codes
from hashkit.mch.framework import MCH, MCHSettings
from hashkit.mch.regions import fixed_boxes, random_boxes

__all__ = ["BASE_MODELS", "DISCARD", "KEEP", "MCH", "AgentSettings", "FeatureCoder", "MCHSettings", "MultiCodes",
           "NetworkCoder", "PolicyNetwork", "encode_regions", "fixed_boxes", "keep_rewards", "multi_codes",
           "random_boxes", "reward_loss", "whole_image_box"]
