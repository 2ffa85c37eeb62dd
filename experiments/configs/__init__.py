"""Experiment configs: one ``get_config()`` per file; shared helpers here."""

import ml_collections


def shrink_rotation_study(config: ml_collections.ConfigDict, *,
                          canvas_size: int,
                          num_train_steps: int = 1) -> ml_collections.ConfigDict:
  """Shrinks a rotation study config into a smoke test (returns ``config``).

  Offline digits on a ``canvas_size`` canvas, ``num_train_steps`` steps of
  batch 16 on 32 digits, 16 test digits measured at 0 and 90 degrees, a
  checkpoint and a log line every step. Models and ``run`` stay for the
  caller to shrink.
  """
  config.dataset = 'digits'
  config.canvas_size = canvas_size
  config.presets.quick = ml_collections.ConfigDict(dict(
      num_train_steps=num_train_steps, train_limit=32, eval_limit=16))
  config.batch_size = 16
  config.eval_batch_size = 16
  config.warmup_steps = 0
  config.log_every = 1
  config.checkpoint_every = 1
  config.consistency_max_shift = 1
  config.rotation_angles = (0.0, 90.0)
  return config
