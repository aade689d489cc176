"""One recipe object per training phase: its network, what it trains, its loss, its validation.

=================== ============================================ ==============================
stage               trains                                       loss
=================== ============================================ ==============================
``encoder-decoder`` the DIM U-Net (refinement CNN frozen, unused) ``w*L_alpha + (1-w)*L_comp`` on
                                                                 the coarse alpha (DIM, w=0.5)
``refinement``      DIM's refinement CNN; the U-Net frozen (eval) ``L_alpha`` on the refined alpha
``finetune``        everything                                   ``L_alpha`` (refined) + the
                                                                 encoder-decoder loss (coarse)
``trimap``          the trimap U-Net (optionally with a prior)   cross-entropy (3 classes,
                                                                 ignored pixels allowed)
``guided``          the classical-guided U-Net + refinement CNN  the encoder-decoder loss on both
                                                                 coarse and refined alpha
=================== ============================================ ==============================

Losses are over the trimap's unknown pixels (:mod:`trimatte.training.losses`). The
training loop (:mod:`trimatte.training.trainer`) only calls the methods of
:class:`Recipe`; :func:`recipe_for` picks the recipe of a config's stage.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from trimatte.errors import InputError
from trimatte.models.checkpoint import load_checkpoint
from trimatte.models.inference import pad_to_multiple, unpad
from trimatte.training import losses
from trimatte.training.config import TrainConfig

__all__ = ["RECIPES", "GuidedRecipe", "MattingRecipe", "Recipe", "TrimapRecipe", "recipe_for"]

MATTING_METRICS = ("SAD", "MSE", "Grad", "Conn")
"""Metrics of ``val.csv`` for matting stages (see :func:`trimatte.metrics.compute_metrics`)."""


class Recipe:
    """What one training phase needs from the loop. Subclasses fill in the network."""

    #: Validation metrics, in ``val.csv`` column order; the first is plotted.
    metrics: ClassVar[tuple[str, ...]] = MATTING_METRICS

    def __init__(self, config: TrainConfig) -> None:
        self.config = config

    # ----------------------------------------------------------------- model
    def make_network(self, encoder_init: str | None, decoder: tuple[int, ...] | None
                     ) -> nn.Module:
        raise NotImplementedError

    def build_model(self) -> nn.Module:
        """The network with its initial weights: ``model.init_from`` (a checkpoint whose
        architecture must match) or, without it, ``model.encoder_init`` for the encoder."""
        m = self.config.model
        decoder = tuple(m.decoder_channels) if m.decoder_channels is not None else None
        model = self.make_network(m.encoder_init if not m.init_from else None, decoder)
        if m.init_from:
            state = load_checkpoint(m.init_from)["state_dict"]
            own = model.state_dict()
            bad = sorted(k for k in own if k not in state or state[k].shape != own[k].shape)
            if bad:
                raise InputError(
                    f"checkpoint does not fit the configured model ({len(bad)} missing or "
                    f"mismatched weights, e.g. {', '.join(bad[:3])}); check model.encoder, "
                    "encoder_depth and decoder_channels",
                    m.init_from,
                )
            model.load_state_dict(state)
        self.set_trainable(model)
        return model

    def set_trainable(self, model: nn.Module) -> None:
        """Set ``requires_grad`` for the parts this phase trains (default: all)."""
        model.requires_grad_(True)

    def frozen_encoder(self, model: nn.Module) -> nn.Module:
        """The encoder whose BatchNorm statistics ``model.freeze_bn: encoder`` fixes."""
        return model.encoder

    def set_train_mode(self, model: nn.Module) -> None:
        """Training mode, with the BatchNorm layers ``model.freeze_bn`` names in eval mode."""
        model.train()
        freeze = self.config.model.freeze_bn
        if freeze != "none":
            frozen = model if freeze == "all" else self.frozen_encoder(model)
            for module in frozen.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()

    # ----------------------------------------------------------------- steps
    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``{"loss", "alpha", "composition"}`` of one batch (the last two for the log)."""
        raise NotImplementedError

    def predict(self, model: nn.Module, item: dict[str, Any], device: torch.device
                ) -> tuple[np.ndarray, dict[str, float]]:
        """Prediction (float32 ``(H, W)`` for the figure) and metrics of one validation item."""
        raise NotImplementedError


def _padded(item: dict[str, Any], key: str, device: torch.device, stride: int):
    return pad_to_multiple(item[key][None].to(device), stride)


class MattingRecipe(Recipe):
    """DIM's three phases: ``encoder-decoder``, ``refinement`` and ``finetune``."""

    def make_network(self, encoder_init, decoder):
        from trimatte.models.dim import build_matting_net

        m = self.config.model
        return build_matting_net(m.encoder, 4, encoder_init, refine=True,
                                 encoder_depth=m.encoder_depth, decoder_channels=decoder,
                                 refine_channels=m.refine_channels)

    def set_trainable(self, model):
        model.requires_grad_(True)
        if self.config.stage == "encoder-decoder" and model.refinement is not None:
            model.refinement.requires_grad_(False)
        elif self.config.stage == "refinement":
            model.matting.requires_grad_(False)

    def frozen_encoder(self, model):
        return model.matting.encoder

    def set_train_mode(self, model):
        super().set_train_mode(model)
        if self.config.stage == "refinement":
            model.matting.eval()

    def loss(self, model, batch):
        stage, w = self.config.stage, self.config.optim.alpha_loss_weight
        weight = losses.unknown_weight(batch["trimap"])
        out = model(batch["image"], batch["trimap"], refine=stage != "encoder-decoder")
        if stage == "encoder-decoder":
            return losses.dim_loss(out["alpha_coarse"], batch["alpha"], batch["fg"],
                                   batch["bg"], weight, alpha_weight=w)
        refined = losses.alpha_prediction_loss(out["alpha"], batch["alpha"], weight)
        if stage == "refinement":
            return {"loss": refined, "alpha": refined.detach(),
                    "composition": refined.detach() * 0}
        coarse = losses.dim_loss(out["alpha_coarse"], batch["alpha"], batch["fg"], batch["bg"],
                                 weight, alpha_weight=w)
        return {"loss": refined + coarse["loss"], "alpha": refined.detach(),
                "composition": coarse["composition"].detach()}

    def predict(self, model, item, device):
        from trimatte.metrics import compute_metrics
        from trimatte.models.dim import keep_known

        image, pads = _padded(item, "image", device, model.stride)
        trimap, _ = _padded(item, "trimap", device, model.stride)
        out = model(image, trimap, refine=self.config.stage != "encoder-decoder")
        alpha = keep_known(unpad(out["alpha"], pads), item["trimap"][None].to(device))
        prediction = alpha[0, 0].cpu().numpy()
        return prediction, compute_metrics(prediction, *_truth(item))


def _truth(item: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth alpha (float32 HxW) and uint8 trimap of a validation item."""
    return (item["alpha"][0].numpy(),
            np.rint(item["trimap"][0].numpy() * 255).astype(np.uint8))


class TrimapRecipe(Recipe):
    """The 3-class trimap U-Net (optionally fed the salient prior)."""

    metrics = ("CE", "accuracy", "unknown_iou", "known_error")

    def make_network(self, encoder_init, decoder):
        from trimatte.models.trimap_unet import build_trimap_net

        m = self.config.model
        return build_trimap_net(m.encoder, encoder_init, encoder_depth=m.encoder_depth,
                                decoder_channels=decoder, prior_channels=m.prior_channels,
                                input_size=m.input_size)

    def loss(self, model, batch):
        logits = model(batch["image"], batch.get("prior"))
        weights = torch.tensor(self.config.optim.trimap_class_weights, device=logits.device)
        ce = losses.trimap_cross_entropy(logits, batch["trimap_class"], weights)
        return {"loss": ce, "alpha": ce.detach() * 0, "composition": ce.detach() * 0}

    def predict(self, model, item, device):
        image, pads = _padded(item, "image", device, model.stride)
        prior = _padded(item, "prior", device, model.stride)[0] if "prior" in item else None
        logits = unpad(model(image, prior), pads)
        target = item["trimap_class"][None].to(device)
        predicted = logits.argmax(dim=1)
        valid = target != losses.IGNORE_CLASS
        unknown_pred, unknown_true = (predicted == 1) & valid, target == 1
        union = (unknown_pred | unknown_true).sum().item()
        wrong_known = valid & (((predicted == 2) & (target == 0))
                               | ((predicted == 0) & (target == 2)))
        metrics = {
            "CE": float(torch.nn.functional.cross_entropy(
                logits, target, ignore_index=losses.IGNORE_CLASS)),
            "accuracy": float((predicted == target)[valid].float().mean()),
            "unknown_iou": (unknown_pred & unknown_true).sum().item() / union if union else 1.0,
            "known_error": float(wrong_known.float().sum() / valid.float().sum()),
        }
        shown = np.asarray([0, 128, 255], np.uint8)[predicted[0].cpu().numpy()]
        return shown.astype(np.float32) / 255.0, metrics


class GuidedRecipe(Recipe):
    """The classical-guided network on guide-pool samples (:mod:`trimatte.data.guide_pool`)."""

    metrics = (*MATTING_METRICS, "SAD_guide", "Grad_guide")

    def make_network(self, encoder_init, decoder):
        from trimatte.models.guided import build_guided_net

        m = self.config.model
        return build_guided_net(m.encoder, encoder_init, encoder_depth=m.encoder_depth,
                                decoder_channels=decoder, refine_channels=m.refine_channels)

    def frozen_encoder(self, model):
        return model.matting.encoder

    def loss(self, model, batch):
        w = self.config.optim.alpha_loss_weight
        weight = losses.unknown_weight(batch["trimap"])
        out = model(batch["image"], batch["trimap"], batch["guide"])
        parts = [losses.dim_loss(out[key], batch["alpha"], batch["fg"], batch["bg"], weight,
                                 alpha_weight=w) for key in ("alpha_coarse", "alpha")]
        return {"loss": parts[0]["loss"] + parts[1]["loss"], "alpha": parts[1]["alpha"].detach(),
                "composition": parts[1]["composition"].detach()}

    def predict(self, model, item, device):
        from trimatte.metrics import compute_metrics
        from trimatte.models.dim import keep_known

        image, pads = _padded(item, "image", device, model.stride)
        trimap, _ = _padded(item, "trimap", device, model.stride)
        guide, _ = _padded(item, "guide", device, model.stride)
        out = model(image, trimap, guide)
        alpha = keep_known(unpad(out["alpha"], pads), item["trimap"][None].to(device))
        prediction = alpha[0, 0].cpu().numpy()
        truth = _truth(item)
        metrics = compute_metrics(prediction, *truth)
        baseline = compute_metrics(item["guide"][0].numpy(), *truth)
        metrics["SAD_guide"], metrics["Grad_guide"] = baseline["SAD"], baseline["Grad"]
        return prediction, metrics


RECIPES: dict[str, type[Recipe]] = {
    "encoder-decoder": MattingRecipe,
    "refinement": MattingRecipe,
    "finetune": MattingRecipe,
    "trimap": TrimapRecipe,
    "guided": GuidedRecipe,
}
"""The recipe class of each ``config.stage``."""


def recipe_for(config: TrainConfig) -> Recipe:
    """The recipe of ``config.stage``."""
    return RECIPES[config.stage](config)
