# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 4: Deep, initially silent networks learn MNIST
#
# Paper Fig. 4. A feed-forward network of theta neurons, 784-100-100-10
# ($\tau = 6/\pi$, $I_0 = 5/4$, so the free period is $\Theta = 6$), classifies handwritten
# digits by time-to-first-spike coding. Every pixel with value $\geq 128$ sends one input
# spike at $t = T \ln(1/0.99)$, the others none; the class is the output neuron that
# spikes first within the trial of length $T = 2$ (times in the model's time unit). Initial
# phases are $\Theta/2$, so that without input no neuron reaches $\Theta$ before $T$: the
# initial network is silent. Output neurons that do not spike have pseudospikes,
# $t = T + \Theta - H(\phi(T), \sum_j w_{ij} r_j)$, driven by the pseudo rates $r_j$ of the
# layer below ({doc}`../theory`), so that every output neuron has a first spike time and
# gradients can add spikes where none are.
#
# The loss is the cross-entropy over $-t_{\rm out}$ plus $\gamma\,(e^{t_{\rm label}/T} - 1)$,
# $\gamma = 10^{-2}$; AdaBelief (learning rate $4\cdot10^{-3}$, decaying with time constant 100
# epochs, batches of 1000) trains the weights and the initial phases, with 2 % of the
# pixels flipped in every training image. The network is simulated exactly, layer by
# layer (`snnlib.feedforward`).
#
# With `quick = False` the figure is drawn from all the full-scale runs stored in `results/`
# (60 000 training images; `snnlib reproduce mnist --seeds 0 --promote`
# computes one; rerun it with `--run-dir` to resume an interrupted run).
#
# Source of this page: {download}`notebooks/mnist.py <../../notebooks/mnist.py>`
# ([in the repository](https://github.com/snnlib/snnlib/blob/main/notebooks/mnist.py));
# the executed notebook: download button at the top of the page.

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from snnlib.experiments import mnist
from snnlib.notebook import (
    check_parameters,
    glue_figure,
    glued_figures,
    markdown_table,
    record_numbers,
    show_run_notice,
    stored_results,
)
from snnlib.plotting import use_style
from snnlib.plotting.mnist import figure

use_style()

# %% tags=["parameters"]
quick = False  # True: train one epoch on a subset instead of loading the stored runs
n_train_quick = 6000
n_test_quick = 1000
batch_size_quick = 200
results_dir = None  # the stored full-scale runs (None: results/ of the snnlib clone)

# %% tags=["remove-input"]
check_parameters(
    quick=(quick, bool),
    n_train_quick=(n_train_quick, int, (1, 60_000)),
    n_test_quick=(n_test_quick, int, (1, 10_000)),
    batch_size_quick=(batch_size_quick, int, (1, n_train_quick)),
    results_dir=(results_dir, (str, type(None))),
)
show_run_notice(
    quick,
    f"one epoch on the first {n_train_quick} training images (tested on "
    f"{n_test_quick}), one seed, instead of the stored runs of 100 epochs on all "
    "60 000",
)

# %%
if quick:
    config = mnist.quick_config(
        epochs=1, n_train=n_train_quick, n_test=n_test_quick, batch_size=batch_size_quick
    )
    runs = [mnist.run(config, progress=False)]
else:
    runs = mnist.EXPERIMENT.load_runs("full", stored_results(results_dir, "mnist_seed*.npz"))

# %% tags=["remove-output"]
fig = figure(runs)
glue_figure("fig-mnist", fig)

# %% [markdown]
# ```{glue:figure} fig-mnist
# ---
# name: fig-mnist
# width: 100%
# alt: >-
#   A test digit; spike rasters of all 210 neurons for it before training (no spike) and
#   after training (sparse spikes, the correct output neuron first); the ten output
#   voltages before and after training; the test error against epochs for every stored
#   seed, with and without pseudospikes.
# ---
#
# **Fig. 4.** **(a)** A test digit. **(b, c)** Spikes of all neurons for this digit before
# and after training, the hidden layers at the bottom (one row per neuron) and the ten
# output neurons on top, each in a row ten times as tall (the label's neuron black, the
# others grey): the initial network is silent, the trained one answers with sparse
# spikes (below: which output neuron spikes first). **(d, e)** The output neurons'
# voltages (the label's neuron black and thick, the others grey); a spike is
# $V \to \infty$, followed by the
# reset to $-\infty$. **(f)** Test error against epochs, counting pseudospikes (orange) and
# counting only ordinary spikes (blue: an image without any output spike is wrong unless
# its label is 0, as in the paper's code); thin lines are the single seeds and, where there
# are several, the line and band their mean and sample standard deviation.
# ```

# %% tags=["hide-input"]
display(Markdown(markdown_table(["", "paper", "this run"], mnist.compare(runs))))
label, first = int(runs[0].example_label), int(runs[0].example("after").prediction)
display(
    Markdown(
        f"In (c), after training, output neuron {first} spikes first: "
        + (
            "the label's neuron, so the digit is classified correctly."
            if first == label
            else f"the digit is misclassified (its label is {label})."
        )
    )
)
display(
    Markdown(
        mnist.accuracy_verdict(runs)
        + (
            " Nothing was tuned on the test set: the network, the training and the number of "
            "epochs are the paper's."
            if not quick
            else " This quick run trains the paper's network with the paper's training, "
            "but for one "
            f"epoch on {runs[0].config.data.n_train} images: its accuracy is not the paper-scale "
            "one."
        )
    )
)


# %% tags=["remove-cell"]
record = {
    "quick": quick,
    "seeds": [run.config.training.seed for run in runs],
    "epochs": [run.epochs for run in runs],
    "n_train": runs[0].config.data.n_train,
    "accuracy": [run.final.accuracy for run in runs],
    "accuracy_ordinary": [run.final.accuracy_ordinary for run in runs],
    "activity": [run.final.activity for run in runs],
    "silent_before": [run.initial.silent for run in runs],
    "silent_after": [run.final.silent for run in runs],
    "seconds_per_epoch": [run.seconds_per_epoch for run in runs],
    "figure_fonts": glued_figures(),
}
record_numbers(record)
