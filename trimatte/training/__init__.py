"""Training: configs, recipes per phase, the loop, data sources, checkpoints and logs.

Modules (import them directly; importing this package imports no torch):

* :mod:`~trimatte.training.config` -- the YAML run config, validated;
* :mod:`~trimatte.training.recipes` -- one recipe per phase (network, loss, validation);
* :mod:`~trimatte.training.sources` -- the datasets a config describes;
* :mod:`~trimatte.training.trainer` -- the loop (:func:`~trimatte.training.trainer.train`);
* :mod:`~trimatte.training.distributed`, :mod:`~trimatte.training.checkpointing`,
  :mod:`~trimatte.training.csvlog`, :mod:`~trimatte.training.losses`,
  :mod:`~trimatte.training.plots` -- the loop's parts.
"""

__all__: list[str] = []
