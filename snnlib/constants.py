"""Constants shared by the experiments and their figures (so that `snnlib.plotting` never
imports `snnlib.experiments`)."""

MS = 10.0  #: milliseconds per time unit tau: the paper's figures take tau = 10 ms
MODEL_NAMES = ("qif", "lif")  #: the two neurons of the concept experiment (Fig. 1)
