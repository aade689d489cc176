"""trimatte: image matting with swappable trimap, alpha and foreground stages."""

__version__ = "0.1.0"
