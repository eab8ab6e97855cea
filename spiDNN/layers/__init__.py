"""Layers, named and shaped as Keras' layers."""
from spiDNN.layers.input import Input
from spiDNN.layers.dense import Dense

__all__ = ["Input", "Dense"]
