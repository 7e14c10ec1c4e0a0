"""The Setup section's paragraphs and table: the task, the data, the palette, the networks, training,
evaluation, seeds, hardware and precision, each stated from the runs' records and settings, so that
what a run decided is never typed."""
from collections import Counter

import pandas as pd

from cnnreport.analysis import claims, measurements
from cnnreport.analysis.compute import mult_adds
from cnnreport.analysis.sweeps import distinct
from cnnreport.params import known_data, profile_settings
from cnnreport.report.names import MODELS
from cnnreport.report.present import number, signed, table
from cnnreport.science import palette
from cnnreport.science.data import describe

# What each network is, in words (its layers: the appendix's layer tables).
DESIGNS = {"cnn": "max-pooling down, nearest upsampling up, no skips",
           "cnnskips": "as the CNN, plus the U-Net's two concatenated skips",
           "convtranspose": "strided convolutions down, transposed convolutions up, no skips",
           "unet": "as the U-Net without skips, plus two concatenated skips [@ronneberger2015]",
           "resnet": "a U-Net of residual blocks [@he2016], NF channels at full resolution"}


def task_and_data(runs):
    """The task and the images, from the runs' configs and data records."""
    c, d = runs[0].config, runs[0].data
    return (f"Each {c.category} image of CIFAR-10 [@krizhevsky2009], 32x32 pixels, is turned grey (the mean of red, "
            f"green and blue), and a network predicts for every pixel one of {c.num_colours} colour categories: "
            "colourization as classification, as in the assignment [@assignment]. The images are "
            f"{describe(d, known_data())}: {d['train_images']:,} training and {d['test_images']:,} test images. "
            "The test images serve as the validation set: every accuracy in this report is measured on them, and "
            "nothing is tuned on them beyond what each section's sweep reports." + _copy_text(d))


def _copy_text(data):
    """For the committed runs' data (the JPEG copy), one sentence: why the results rest on it and what
    the lossless originals' matched comparison says (measurements.jpeg_measurements); "" otherwise."""
    if data["fingerprint"] != profile_settings("paper")["data"]:
        return ""
    _, arms = measurements.jpeg_runs()
    originals = arms["originals"].runs[0].data
    _, training, _ = measurements.jpeg_measurements()
    clear = [MODELS[r.model] for r in training.itertuples() if r.matched_interval.clear]
    return (f" Our results rest on this JPEG copy because it was the copy at hand (the machines that trained them cannot "
            f"download CIFAR-10); {originals['train_images'] + originals['test_images']} lossless originals "
            f"({originals['train_images']} training and {originals['test_images']} test horses, those among the first "
            "images of each CIFAR-10 batch file, not a random sample) measure what it changes: trained and tested on "
            f"them rather than on their JPEG twins, the networks score {signed(training.matched.min())} to "
            f"{signed(training.matched.max())} points, clear for {len(clear)} of {len(training)} networks"
            + (f" ({', '.join(clear)})" if clear else "") + ", which is how far real CIFAR-10 pixels would move our "
            "numbers as far as these images can tell (the section on our JPEG copy).")


def palette_text(runs):
    """How the colour categories are made, and that every run shares them."""
    shared = len({tuple(map(tuple, run.palette.tolist())) for run in runs})
    return (f"The {runs[0].config.num_colours} categories are the centres of k-means over the RGB colours of every "
            f"training pixel (k-means++ seeding with a fixed seed, at most {palette.ITERATIONS} steps of Lloyd's "
            "algorithm), numbered from dark to light (@fig:palette); a pixel's true category is its nearest centre. "
            + ("All these runs share one palette, so their accuracies compare." if shared == 1 else
               f"These runs use {shared} palettes (one per data set)."))


def networks_table(runs, label, caption):
    """One row per network of the comparison: its design, parameters, multiply-adds per image and
    the epochs it trains for."""
    first, epochs = {}, {}
    for run in runs:
        first.setdefault(run.config.model, run)
        epochs.setdefault(run.config.model, set()).add(run.config.epochs)
    rows = [dict(network=MODELS[m], design=DESIGNS[m], parameters=r.parameters,
                 **{"multiply-adds per image": mult_adds(r.config), "epochs": ", ".join(map(str, sorted(epochs[m])))})
            for m, r in first.items()]
    return table(pd.DataFrame(rows), label, caption, runs=runs, prose=("design",))


def training_text(runs):
    """The optimiser, loss, batch size and schedule, from the comparison's configs."""
    c = runs[0].config
    epochs = Counter(run.config.epochs for run in runs)
    longest = max(epochs, key=epochs.get)
    others = sorted({(MODELS[r.config.model], r.config.epochs) for r in runs if r.config.epochs != longest})
    return (f"Every network trains with Adam [@kingma2015] at learning rate {number(c.lr)} on batches of {c.batch_size} "
            f"images, reshuffled every epoch, for {longest} epochs"
            + "".join(f" ({name}: {e})" for name, e in others)
            + ", minimising the cross-entropy of the true category averaged over every pixel. The residual network's "
            f"blocks drop whole channels with probability {number(runs[-1].config.dropout)} between their two convolutions, as "
            "wide residual networks do [@zagoruyko2016]; "
            "the other networks have no regularisation. No learning-rate schedule, augmentation or early stopping: "
            "the sweeps change one setting at a time.")


def evaluation_text():
    """What the accuracies mean (fixed by the trainer, not by a run)."""
    return ("The accuracy is the share of test pixels whose most probable category is their true one, after the last "
            "epoch (final epoch), unless a table says best epoch; the section on colour quality adds measures that "
            "see near misses and rare colours.")


def seeds_text(runs):
    """How many seeds each setting has and the rule every claim follows (claims.RULES)."""
    seeds = sorted({run.config.seed for run in runs})
    return (f"Every setting trains with {len(seeds)} seeds ({', '.join(map(str, seeds))}), which set the initial "
            "weights, the shuffling and the dropout; tables give the mean ± the standard deviation over seeds. "
            + claims.RULES)


def hardware_text(runs):
    """Where the runs trained, in what precision and at what cost."""
    runs = distinct(runs)
    machines = Counter(f"{r.info['cpu']} ({r.info['device'].upper() if r.info['device'] == 'cpu' else r.info['device']}, "
                       f"{r.info['precision']}, {r.info['threads']} thread{'s' if r.info['threads'] != 1 else ''} per run)"
                       for r in runs)
    where = " and ".join(f"{n} of them on {m}" if len(machines) > 1 else f"all on {m}" for m, n in machines.most_common())
    return (f"The experiments that follow rest on {len(runs)} training runs, {sum(len(r.history) for r in runs):,} epochs and "
            f"{sum(r.final['seconds'] for r in runs) / 3600:.1f} hours of training, {where} (the measurements of our "
            "JPEG copy add runs of their own, listed in @sec:14_appendix). "
            "Where the hardware computes bfloat16 (bf16) natively, convolutions and matrix products run in bf16 "
            "(autocast) while the weights, the optimiser and the loss stay in float32; the section on precision "
            "measures what this changes against float32 throughout. Times in the tables are those of this "
            "hardware: compare their ratios, not their values, with the original report's.")
