"""Imports TensorFlow and Keras quietly. Every module that needs them imports them from here."""
import os

# Must be set before TensorFlow is first imported; a value the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["keras", "np", "tf"]
