"""Measuring what each callback of the C apps costs on the ARM968: the
apps built for the ARM (``make -C c_code arm-trace``) replay the packets
their host builds received in a run on the virtual machine, in an
instruction-set emulator (unicorn); the cycles of each cost point are
fitted into the table the VM's virtual clock reads
(spiDNN/costs/arm_costs.json).  ``python -m tools.calibration.measure``.
"""
