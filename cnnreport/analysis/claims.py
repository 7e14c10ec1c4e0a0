"""The report's rules for calling a difference real, in one place.

- Between settings (independent seeds): a difference is clear only when it exceeds twice the
  larger of the two sides' std over seeds, and each side has at least two seeds; with one seed
  the spread is unknown and nothing is ranked. The best of several settings is clearly best only
  when it is clearly above the runner-up (`ranking`); a metric on which they all tie has no best. Against the original report's single number (one
  run, no spread of its own) our std alone is the spread.
- Paired measurements on the same images: the mean paired difference with its 95 % confidence
  interval (normal approximation over the images); clear when the interval excludes zero.
- Against a fitted relation: the distance in points, and whether it lies beyond twice the
  relation's residual std.
"""
import math
import statistics

Z95 = 1.959964   # the normal distribution's 97.5 % quantile: a two-sided 95 % interval

# A colour metric's gap between networks at or below this is a tie, however small the seed spread:
# those metrics barely move with the seed, and AuC sits near its ceiling for every network.
TIE = 0.5

# The rules in words, as the report's Setup states them.
RULES = ("A difference between two settings is called clear only when it exceeds twice the larger of the two "
         "standard deviations over seeds and each side has at least two seeds; with one seed the text says so "
         "instead of ranking. The best of several settings is clearly best only when it is clearly above the "
         "runner-up (★ in the tables); where none is, no setting is starred. On the colour metrics a gap of half a "
         "point or less between networks is a tie, however small the spread. Against the original report's single "
         "numbers, our standard deviation alone is the spread. A difference measured on the same images (paired) "
         "carries its 95 % confidence interval over the images, and is clear when the interval excludes zero. A "
         "distance from a fitted relation is given in points, and is off the relation beyond twice the relation's "
         "residual standard deviation.")


def spread(std_a, std_b):
    """The larger of two stds over seeds, ignoring a NaN (a side with one seed)."""
    known = [s for s in (std_a, std_b) if not math.isnan(s)]
    return max(known) if known else math.nan


def between(diff, std_a, std_b, seeds_a=2, seeds_b=2):
    """The verdict on a difference between two settings (see the module docstring)."""
    if math.isnan(diff):
        return "no difference: a side has no finished run"
    if min(seeds_a, seeds_b) < 2:
        return "one seed: spread unknown"
    return "clear" if abs(diff) > 2 * spread(std_a, std_b) else "within seed noise"


def ranking(means, stds, seeds, tie=0.0):
    """(index of the highest mean, of the runner-up, their gap, the spread, the verdict of `between`
    on the gap) over settings given as sequences; NaN means (nothing finished) are left out. With
    one setting the runner-up is None and the verdict "only one value finished"; a gap at or below
    `tie` (TIE for the colour metrics) is "a tie"."""
    order = sorted((i for i, m in enumerate(means) if not math.isnan(m)), key=lambda i: -means[i])
    if not order:
        return None, None, math.nan, math.nan, "every run diverged"
    first = order[0]
    if len(order) == 1:
        return first, None, math.nan, stds[first], "only one value finished"
    second = order[1]
    gap = means[first] - means[second]
    verdict = "a tie" if gap <= tie else between(gap, stds[first], stds[second], seeds[first], seeds[second])
    return first, second, gap, spread(stds[first], stds[second]), verdict


def against_single(diff, std, seeds, allowance=0.0):
    """The verdict on our mean minus a single number of the original report (see the module
    docstring); allowance: points the single number may itself move (its own repeats' range)."""
    if seeds == 0:
        return "every seed diverged"
    if seeds < 2 or math.isnan(std):
        return "one seed: spread unknown"
    return "within noise" if abs(diff) <= 2 * std + allowance else "ours higher" if diff > 0 else "ours lower"


def paired(a, b):
    """(mean of b - a, lower and upper end of its 95 % interval, verdict) over paired values."""
    d = [y - x for x, y in zip(a, b, strict=True)]
    mean = statistics.fmean(d)
    half = Z95 * statistics.stdev(d) / math.sqrt(len(d))
    return mean, mean - half, mean + half, ("clear" if mean - half > 0 or mean + half < 0 else "within noise")


def off_relation(distance, residual_std):
    """The verdict on a point's distance (points) from a relation fitted with this residual std."""
    return "on the relation" if abs(distance) <= 2 * residual_std else "off the relation"
