"""inputgrad: interpret Keras models with input gradients (Hechtlinger 2016), reproducibly."""

__version__ = "0.1.0"
