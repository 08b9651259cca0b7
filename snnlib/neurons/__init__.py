"""Neuron models: closed-form flow, time to the next spike, input, reset, pseudodynamics.

See `snnlib.neurons._base` ("Adding a neuron model") for the interface a new model
implements.
"""

from ._base import NeuronModel, PseudodynamicsModel
from ._phase import PhaseNeuron
from .lif import LIF
from .osc_lif import OscLIF
from .qif import QIF
from .theta import Theta

__all__ = ["LIF", "QIF", "NeuronModel", "OscLIF", "PhaseNeuron", "PseudodynamicsModel", "Theta"]
