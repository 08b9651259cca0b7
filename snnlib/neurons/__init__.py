"""Neuron models: closed-form flow, time to the next spike, input, reset, pseudodynamics.

The interface a new model implements, and how to add one: book/architecture.md,
"Adding a neuron model".
"""

from ._base import NeuronModel, PseudodynamicsModel
from ._phase import PhaseNeuron
from .lif import LIF
from .osc_lif import OscLIF
from .qif import QIF
from .theta import Theta

__all__ = ["LIF", "QIF", "NeuronModel", "OscLIF", "PhaseNeuron", "PseudodynamicsModel", "Theta"]
