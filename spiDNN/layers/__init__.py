"""Layers, named and shaped as Keras' layers."""
from spiDNN.layers.activation import (
    ELU, Activation, LeakyReLU, ReLU, Rescaling, Softmax)
from spiDNN.layers.convolutional import Conv1D, Conv2D
from spiDNN.layers.core import Dropout, Flatten, Reshape
from spiDNN.layers.dense import Dense
from spiDNN.layers.input import Input
from spiDNN.layers.merging import (
    Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract)
from spiDNN.layers.padding import ZeroPadding2D
from spiDNN.layers.permute import Permute
from spiDNN.layers.prelu import PReLU
from spiDNN.layers.upsampling import RepeatVector, UpSampling1D, UpSampling2D
from spiDNN.layers.pooling import (
    AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
    MaxPooling1D, MaxPooling2D)

__all__ = ["Input", "Dense", "Conv1D", "Conv2D", "MaxPooling1D",
           "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "ZeroPadding2D", "Flatten", "Reshape", "Dropout", "Add",
           "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Concatenate", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
           "Rescaling", "UpSampling1D", "UpSampling2D", "RepeatVector",
           "Permute", "PReLU"]
