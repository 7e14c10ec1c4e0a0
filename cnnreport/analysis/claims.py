"""The report's rules for calling a difference real, in one place: every difference gets a 95 %
interval, printed as its two bounds at the precision of its unit, and the verdict is read off
those printed bounds, so that a verdict never contradicts the numbers beside it.

- Between two settings (means over seeds): Welch's t interval on the difference of the means, with
  its fractional degrees of freedom (`welch`); where the runs pair by seed, sharing initial weights
  and batch order (rebalancing, precision, the two copies of the images), the paired t interval
  on the per-seed differences (`paired_seeds`). More seeds narrow it: at 3 seeds a side and equal
  spreads its half-width is about 2.3 standard deviations, at 5 about 1.5.
- Against a single number (the original report's one run): whether one more run of ours would land
  there, the prediction interval t s sqrt(1 + 1/n) around our mean (`against_single`); it counts
  the single number's own seed noise.
- On the same images (one network on two copies of its test images): the interval of the mean
  paired difference over the images (`paired`, normal approximation).
- Both printed bounds of one sign: clear; of opposite signs: within noise; a bound that prints as
  0.0 (or -0.0): borderline, counted as neither. One seed on a side: no interval, no verdict.
- Against a fitted relation: the distance in points, off the relation beyond twice the relation's
  residual standard deviation (`off_relation`).
"""
import math
import statistics
from dataclasses import dataclass

from scipy.stats import t as student_t

Z95 = 1.959964   # the normal distribution's 97.5 % quantile: a two-sided 95 % interval
ONE_SEED = "one seed: no interval"
# The decimals each metric is printed at, in its unit (points, dB, colourfulness), which its verdicts are read at.
DIGITS = {"val_acc": 1, "pixel_acc": 1, "balanced_acc": 1, "auc": 1, "psnr": 2, "colourfulness": 1,
          "colourfulness_true": 1}

# The rules in words, as the report's Setup states them.
RULES = ("Every difference carries its 95 % interval, printed as [low, high] in its unit. Between two settings "
         "it is Welch's t interval on the difference of the means over seeds, or, where the runs of the two "
         "settings share their seeds (the same initial weights and batch order), the paired t interval on the "
         "per-seed differences. Against a single number of the original report it is the prediction interval of "
         "one more run of ours. A difference is clear when both printed bounds have one sign, within noise when "
         "they have opposite signs, and borderline, counted as neither, when a bound prints as zero; with one "
         "seed there is no interval and no verdict. The best of several settings is clearly best only when it "
         "is clearly above the runner-up (★ in the tables). A difference measured on the same images carries "
         "its 95 % interval over the images; a distance from a fitted relation is off the relation beyond "
         "twice the relation's residual standard deviation.")


@dataclass(frozen=True)
class Interval:
    """A difference, its 95 % interval and the verdict its bounds give at `digits` decimals."""
    diff: float
    low: float
    high: float
    digits: int
    verdict: str

    def __str__(self):
        """The bounds as printed, e.g. [-1.3, 0.4]; "–" without an interval."""
        if math.isnan(self.low):
            return "–"
        return "[" + ", ".join(f"{round(b, self.digits) + 0.0:.{self.digits}f}" for b in (self.low, self.high)) + "]"

    @property
    def clear(self):
        return self.verdict in ("clear", "ours higher", "ours lower")

    def negated(self):
        """The same interval on the opposite difference (a - b for b - a)."""
        flip = {"ours higher": "ours lower", "ours lower": "ours higher"}
        return Interval(-self.diff, -self.high, -self.low, self.digits, flip.get(self.verdict, self.verdict))


def summed(intervals, digits=1):
    """The sum of several intervals' differences, its half-width the root of the sum of their
    half-widths squared (independent measurements), read as any interval is."""
    if not intervals:
        return _interval(0.0, 0.0, digits)
    half = math.sqrt(sum(((i.high - i.low) / 2) ** 2 for i in intervals))
    return _interval(sum(i.diff for i in intervals), half, digits)


def decide(low, high, digits, clear="clear"):
    """The verdict of an interval read off its bounds printed at `digits` decimals: `clear` when both
    have one sign, "within noise" when they have opposite signs, "borderline" when one prints as zero."""
    low, high = round(low, digits), round(high, digits)
    if low == 0 or high == 0:
        return "borderline"
    return clear if (low > 0) == (high > 0) else "within noise"


def _interval(diff, half, digits, clear="clear"):
    return Interval(diff, diff - half, diff + half, digits, decide(diff - half, diff + half, digits, clear))


def _none(diff, digits, verdict=ONE_SEED):
    return Interval(diff, math.nan, math.nan, digits, verdict)


def welch(mean_a, std_a, n_a, mean_b, std_b, n_b, digits=1):
    """Welch's t interval on mean_b - mean_a of two settings measured over n_a and n_b seeds."""
    return contrast([(-1, mean_a, std_a, n_a), (1, mean_b, std_b, n_b)], digits)


def contrast(terms, digits=1):
    """The 95 % interval of a sum of weighted means, terms [(weight, mean, std, n)], e.g. an
    interaction (b - a) - (d - c) of four settings: Welch-Satterthwaite's degrees of freedom."""
    value = sum(w * m for w, m, _, _ in terms)
    if math.isnan(value):
        return _none(value, digits, "no difference: a side has no finished run")
    if min(n for _, _, _, n in terms) < 2:
        return _none(value, digits)
    parts = [w ** 2 * s ** 2 / n for w, _, s, n in terms]
    if sum(parts) == 0:
        return _interval(value, 0.0, digits)
    df = sum(parts) ** 2 / sum(p ** 2 / (n - 1) for p, (_, _, _, n) in zip(parts, terms))
    return _interval(value, student_t.ppf(0.975, df) * math.sqrt(sum(parts)), digits)


def paired_seeds(a, b, digits=1):
    """The paired t interval on the mean of b - a over seeds, a and b aligned seed by seed."""
    d = [y - x for x, y in zip(a, b, strict=True)]
    if len(d) < 2:
        return _none(statistics.fmean(d) if d else math.nan, digits)
    mean = statistics.fmean(d)
    return _interval(mean, student_t.ppf(0.975, len(d) - 1) * statistics.stdev(d) / math.sqrt(len(d)), digits)


def against_single(mean, std, n, single, digits=1):
    """Our mean over n seeds (std over them) minus a single number, with the prediction interval of
    one more run of ours, t s sqrt(1 + 1/n): "ours higher" or "ours lower" when it excludes the
    single number, "within noise", "borderline"; no interval with one seed, none when every seed diverged."""
    diff = mean - single
    if n == 0:
        return _none(diff, digits, "every seed diverged")
    if n < 2 or math.isnan(std):
        return _none(diff, digits)
    interval = _interval(diff, student_t.ppf(0.975, n - 1) * std * math.sqrt(1 + 1 / n), digits)
    if interval.verdict == "clear":
        return Interval(diff, interval.low, interval.high, digits, "ours higher" if diff > 0 else "ours lower")
    return interval


def against_exact(mean, std, n, exact, digits=1):
    """Our mean over n seeds minus a number without seed noise (a baseline's, computed from the data),
    with the t interval of our mean: "ours higher", "ours lower", "within noise", "borderline"."""
    diff = mean - exact
    if n < 2 or math.isnan(std):
        return _none(diff, digits)
    interval = _interval(diff, student_t.ppf(0.975, n - 1) * std / math.sqrt(n), digits)
    if interval.verdict == "clear":
        return Interval(diff, interval.low, interval.high, digits, "ours higher" if diff > 0 else "ours lower")
    return interval


def reproduced(committed, value, digits=1):
    """Whether a retrained run's `value` lies where one more of the `committed` seeds' values would:
    "within noise" inside their prediction interval (against_single), "outside noise" beyond it,
    "borderline" on its edge; with one committed seed, no interval."""
    n = len(committed)
    std = statistics.stdev(committed) if n > 1 else math.nan
    verdict = against_single(statistics.fmean(committed), std, n, value, digits).verdict
    return "outside noise" if verdict in ("ours higher", "ours lower") else verdict


def paired(a, b, digits=2):
    """The mean of b - a over paired values (the images measured twice) with its 95 % interval
    (normal approximation over the pairs)."""
    d = [y - x for x, y in zip(a, b, strict=True)]
    return _interval(statistics.fmean(d), Z95 * statistics.stdev(d) / math.sqrt(len(d)), digits)


def ranking(means, stds, seeds, digits=1):
    """(index of the highest mean, of the runner-up, the Interval of the runner-up against the best,
    its verdict) over settings given as sequences; NaN means (nothing finished) are left out. With
    one setting the runner-up and the interval are None and the verdict "only one value finished"."""
    order = sorted((i for i, m in enumerate(means) if not math.isnan(m)), key=lambda i: -means[i])
    if not order:
        return None, None, None, "every run diverged"
    first = order[0]
    if len(order) == 1:
        return first, None, None, "only one value finished"
    second = order[1]
    gap = welch(means[second], stds[second], seeds[second], means[first], stds[first], seeds[first], digits)
    return first, second, gap, gap.verdict


def off_relation(distance, residual_std):
    """The verdict on a point's distance (points) from a relation fitted with this residual std."""
    return "on the relation" if abs(distance) <= 2 * residual_std else "off the relation"
