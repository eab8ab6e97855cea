"""Where a mapped model runs: the virtual machine or a SpiNNaker board."""
