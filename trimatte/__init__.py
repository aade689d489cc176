"""trimatte: image matting with swappable trimap, alpha and foreground stages.

Quick start::

    import trimatte
    image = trimatte.read_image("photo.jpg")
    result = trimatte.matte(image)            # default pipeline
    trimatte.write_rgba("cutout.png", result.foreground, result.alpha)

See :mod:`trimatte.pipeline` for composing pipelines and :mod:`trimatte.image`
for the array conventions.
"""

__version__ = "0.1.0"

# Built-in stages register themselves in STAGES when imported; importing them here
# makes every built-in stage nameable after any `import trimatte...`.
from trimatte import stages
from trimatte.api import build_pipeline, default_pipeline, matte
from trimatte.errors import (
    ConfigError,
    InputError,
    ModelUnavailableError,
    TrimapError,
    TrimatteError,
)
from trimatte.io import read_alpha, read_image, read_trimap, write_alpha, write_image, write_rgba
from trimatte.pipeline import STAGES, MatteState, Pipeline, Stage

__all__ = [
    "STAGES",
    "ConfigError",
    "InputError",
    "MatteState",
    "ModelUnavailableError",
    "Pipeline",
    "Stage",
    "TrimapError",
    "TrimatteError",
    "__version__",
    "build_pipeline",
    "default_pipeline",
    "matte",
    "read_alpha",
    "read_image",
    "read_trimap",
    "stages",
    "write_alpha",
    "write_image",
    "write_rgba",
]
