"""Thin pipeline stages wrapping the functional core.

Importing this package registers every built-in stage in
:data:`trimatte.pipeline.STAGES`; ``STAGES.names()`` lists them. Deep-learning
stages import torch only when they run.
"""

from trimatte.stages.alpha import ClosedFormAlpha, GrabCutAlpha
from trimatte.stages.auto import AutoTrimap
from trimatte.stages.deep import DIMAlpha, UNetTrimap
from trimatte.stages.foreground import Composite, Cutout, MultilevelForeground
from trimatte.stages.guided import GuidedAlpha
from trimatte.stages.levels import AlphaLevels
from trimatte.stages.plate import PlateAlpha, PlateForeground, PlateTrimap
from trimatte.stages.refined import RefinedAlpha
from trimatte.stages.salient import SalientTrimap
from trimatte.stages.trimap import GivenTrimap, GrabCutTrimap, TrimapBand, TrimapCleanup

__all__ = [
    "AlphaLevels",
    "AutoTrimap",
    "ClosedFormAlpha",
    "Composite",
    "Cutout",
    "DIMAlpha",
    "GivenTrimap",
    "GrabCutAlpha",
    "GrabCutTrimap",
    "GuidedAlpha",
    "MultilevelForeground",
    "PlateAlpha",
    "PlateForeground",
    "PlateTrimap",
    "RefinedAlpha",
    "SalientTrimap",
    "TrimapBand",
    "TrimapCleanup",
    "UNetTrimap",
]
