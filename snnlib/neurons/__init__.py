"""Neuron models: closed-form flow, time to the next spike, input, reset, pseudodynamics."""

from ._protocol import NeuronModel
from .lif import LIF
from .osc_lif import OscLIF
from .qif import QIF
from .theta import Theta

__all__ = ["LIF", "QIF", "NeuronModel", "OscLIF", "Theta"]
