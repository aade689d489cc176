"""U²-Net-p, the small salient-object segmentation network of Qin et al. (2020).

Reference: X. Qin, Z. Zhang, C. Huang, M. Dehghan, O. R. Zaiane, M. Jagersand,
"U²-Net: Going deeper with nested U-structure for salient object detection",
Pattern Recognition 106, 2020.

The network is a U-Net whose every stage is itself a small U-Net, a *residual
U-block* (RSU). An ``RSU-L`` block maps its input to ``out_ch`` channels with an
input convolution, runs an ``L``-level encoder/decoder on ``mid_ch`` channels
(max-pooling by 2 between encoder levels, bilinear upsampling between decoder
levels, a dilation-2 convolution at the bottom), and adds the input convolution's
output back (the residual). ``RSU-4F`` replaces pooling by growing dilations
(1, 2, 4, bottom 8) so that it keeps full resolution.

U²-Net-p uses 64 channels between stages and 16 inside every block:

=========  =========  ======  ==========  ============  =======
stage      block      in      mid         out           scale
=========  =========  ======  ==========  ============  =======
encoder 1  RSU-7      3       16          64            1
encoder 2  RSU-6      64      16          64            1/2
encoder 3  RSU-5      64      16          64            1/4
encoder 4  RSU-4      64      16          64            1/8
encoder 5  RSU-4F     64      16          64            1/16
encoder 6  RSU-4F     64      16          64            1/32
decoder 5  RSU-4F     128     16          64            1/16
decoder 4  RSU-4      128     16          64            1/8
decoder 3  RSU-5      128     16          64            1/4
decoder 2  RSU-6      128     16          64            1/2
decoder 1  RSU-7      128     16          64            1
=========  =========  ======  ==========  ============  =======

Six 3x3 side heads (decoder 1..5 and encoder 6 → 1 channel) are upsampled to the
input size and fused by a 1x1 convolution; the network returns the fused map and
the six side maps, each through a sigmoid.

Batch normalisation: the original network has Conv-BN-ReLU units. The shipped
weights (see :mod:`trimatte.models.salient_net`) come from an ONNX export in which
each batch norm is folded into its convolution, so this module uses Conv(+bias)-ReLU
units; it is exact for inference. Training it from scratch without batch norm is
possible but not what the paper did.

Pooling uses ``ceil_mode=True`` and every upsampling resizes to the exact size of
the skip tensor, so any input size ≥ 1x1 works (the reference input is 320x320).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["U2NETP_OUTPUT_NAMES", "ConvReLU", "ResidualUBlock", "U2NetP"]

U2NETP_OUTPUT_NAMES: tuple[str, ...] = ("fused", "side1", "side2", "side3", "side4", "side5",
                                        "side6")
"""Names of the seven maps returned by :meth:`U2NetP.forward`, in order."""


def _resize_to(x: torch.Tensor, size: torch.Size | tuple[int, int]) -> torch.Tensor:
    """Bilinear resize (half-pixel centres) of ``x`` (N, C, h, w) to ``size`` (H, W)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ConvReLU(nn.Module):
    """3x3 convolution (with bias; batch norm folded in) followed by ReLU.

    Args:
        in_ch: Input channels.
        out_ch: Output channels.
        dilation: Dilation of the 3x3 kernel; padding equals it so the size is kept.
    """

    def __init__(self, in_ch: int, out_ch: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=dilation, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x))


class ResidualUBlock(nn.Module):
    """Residual U-block ``RSU-L`` (``dilated=False``) or ``RSU-LF`` (``dilated=True``).

    Args:
        height: ``L``, the number of levels including the bottom one (4..7 in U²-Net).
        in_ch: Input channels.
        mid_ch: Channels inside the block.
        out_ch: Output channels (also of the residual input convolution).
        dilated: Keep full resolution and grow the dilation (1, 2, 4, ...) instead of
            pooling; the bottom level then uses dilation ``2**(height-1)``.

    Shapes:
        ``(N, in_ch, H, W) -> (N, out_ch, H, W)``.
    """

    def __init__(
        self, height: int, in_ch: int, mid_ch: int, out_ch: int, *, dilated: bool = False
    ) -> None:
        super().__init__()
        if height < 2:
            raise ValueError(f"a residual U-block needs height >= 2, got {height}")
        self.height = height
        self.dilated = dilated
        levels = height - 1
        dilations = [2**i if dilated else 1 for i in range(levels)]
        self.input_conv = ConvReLU(in_ch, out_ch)
        self.encoder = nn.ModuleList(
            ConvReLU(out_ch if i == 0 else mid_ch, mid_ch, dilations[i]) for i in range(levels)
        )
        self.bottom = ConvReLU(mid_ch, mid_ch, 2**levels if dilated else 2)
        # decoder[i] merges with encoder[i]; they run from the deepest level up.
        self.decoder = nn.ModuleList(
            ConvReLU(2 * mid_ch, out_ch if i == 0 else mid_ch, dilations[i])
            for i in range(levels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.input_conv(x)
        skips = []
        h = residual
        for i, conv in enumerate(self.encoder):
            if i > 0 and not self.dilated:
                h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
            h = conv(h)
            skips.append(h)
        h = self.bottom(h)
        for i in reversed(range(len(self.decoder))):
            skip = skips[i]
            h = self.decoder[i](torch.cat((_resize_to(h, skip.shape[-2:]), skip), dim=1))
        return h + residual


class U2NetP(nn.Module):
    """The U²-Net-p salient-object network (1.13 M parameters).

    Args:
        in_ch: Input channels (3 for RGB).
        out_ch: Channels of each output map (1 for a saliency mask).

    Shapes:
        input ``(N, in_ch, H, W)`` float32 (ImageNet-normalised RGB for the shipped
        weights); output a tuple of 7 tensors ``(N, out_ch, H, W)``, named by
        :data:`U2NETP_OUTPUT_NAMES` (fused map first).
    """

    def __init__(self, in_ch: int = 3, out_ch: int = 1) -> None:
        super().__init__()
        mid, width = 16, 64
        heights = (7, 6, 5, 4, 4, 4)
        self.encoder_stages = nn.ModuleList(
            ResidualUBlock(h, in_ch if i == 0 else width, mid, width, dilated=i >= 4)
            for i, h in enumerate(heights)
        )
        # decoder_stages[i] produces the map at encoder level i (0 = full resolution).
        self.decoder_stages = nn.ModuleList(
            ResidualUBlock(h, 2 * width, mid, width, dilated=i == 4)
            for i, h in enumerate(heights[:5])
        )
        self.side_heads = nn.ModuleList(
            nn.Conv2d(width, out_ch, 3, padding=1) for _ in range(len(heights))
        )
        self.fuse = nn.Conv2d(len(heights) * out_ch, out_ch, 1)

    def forward_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The seven maps before the sigmoid (for training with a logits loss)."""
        if x.ndim != 4:
            raise ValueError(f"U2NetP expects a (N, C, H, W) tensor, got shape {tuple(x.shape)}")
        size = x.shape[-2:]
        encoded = []
        h = x
        for i, stage in enumerate(self.encoder_stages):
            if i > 0:
                h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
            h = stage(h)
            encoded.append(h)
        decoded = [h]  # the deepest level's map feeds side head 6
        for i in reversed(range(len(self.decoder_stages))):
            skip = encoded[i]
            h = self.decoder_stages[i](torch.cat((_resize_to(h, skip.shape[-2:]), skip), dim=1))
            decoded.append(h)
        decoded.reverse()  # decoded[i] is the map at level i
        sides = [
            _resize_to(head(d), size) for head, d in zip(self.side_heads, decoded, strict=True)
        ]
        fused = self.fuse(torch.cat(sides, dim=1))
        return (fused, *sides)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Seven probability maps in [0, 1]: fused, then side 1 (finest) .. side 6."""
        return tuple(torch.sigmoid(t) for t in self.forward_logits(x))
