"""Developer tools, outside the shipped package: calibration, host energy, fault rigs, the golden grid."""
