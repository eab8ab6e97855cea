"""Training: Keras' loop over a machine, its run, progress and History."""
