"""The SpiNNaker fabric's timing, as the clock and the planner assume it.

None of it is measurable here: the constants are the published orders of
magnitude, and say so.
"""

#: Picoseconds per second.
PS = 10 ** 12

# A multicast packet's latency through one router.  SpiNNaker's router is
# pipelined and handles a packet per clock; Furber et al., "Overview of
# the SpiNNaker system architecture", IEEE Trans. Computers 62(12), 2013,
# give of the order of 0.1-0.2 us per hop.  Assumed: 0.2 us (not checked
# against a stored copy of the paper here).
HOP_SECONDS = 0.2e-6
# The chip-to-chip links are self-timed 2-of-7 NRZ links of about
# 250 Mbit/s each way (Plana et al., "SpiNNaker: design and implementation
# of a GALS multicore system-on-chip", ACM JETC 7(4), 2011; assumed, as
# above).  A multicast packet is 40 bits (8-bit header, 32-bit key), 72
# with a payload.
LINK_BITS_PER_SECOND = 250e6
PACKET_BITS = 40
PAYLOAD_PACKET_BITS = 72
# How often an input core streams one of the host's values into the
# fabric: 100 cycles a packet (reading SDRAM, one spin1_send_mc_packet).
# Assumed, not measured: the reverse IP tag source is not one of spiDNN's
# apps; the report shows when the sources are the bottleneck.
SOURCE_CYCLES_PER_PACKET = 100
# A chip's SDRAM is shared by its cores' DMA engines: mobile DDR SDRAM
# of about 1 GB/s (Painkras et al., "SpiNNaker: a 1-W 18-core
# system-on-chip for massively-parallel neural network simulation", IEEE
# JSSC 48(8), 2013; assumed, as above).  A transfer's set-up (spin1's
# queue, the DMA controller's registers): 100 cycles, assumed.
SDRAM_BYTES_PER_SECOND = 1e9
DMA_SETUP_CYCLES = 100
# A board waits for the host between batches (the commit needs the
# step's scale): one UDP round trip over the board's Ethernet.  Assumed
# 1 ms; a measured figure belongs to issue 13's live I/O.
HOST_ROUND_TRIP_SECONDS = 1e-3
