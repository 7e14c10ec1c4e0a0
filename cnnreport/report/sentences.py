"""The computed paragraphs of the report's sections: each states what a table or figure shows, every
number taken from the results and every verdict from cnnreport.analysis.claims."""
import math

import torch

from cnnreport.analysis import claims
from cnnreport.analysis.original import ORIGINAL
from cnnreport.report.names import MODELS, field_name, network
from cnnreport.report.present import number, signed


def jpeg_sentence(first, training, palette):
    """What the JPEG copy does to our numbers, in one paragraph: the matched comparison first (training_effect:
    trained and tested on the originals against on their twins), then the mismatched ones (originals_effect
    (first): the same weights on both test versions; training_effect: trained on either, tested on the
    originals) and the palette (palette_effect)."""
    def span(values):
        return f"{signed(min(values))} to {signed(max(values))}" if len(values) > 1 else signed(values[0])
    clear = first[first.verdict == "clear"]
    text = ("Trained and tested on the original images, against trained and tested on their JPEG twins (paired by seed), "
            "the networks score " + "; ".join(f"{_name(r.model)} {signed(r.matched)} points ({said(r.matched_interval)})"
                                              for r in training.itertuples())
            + ": the matched comparison, which says whether our results would hold on the original pixels. ")
    text += (f"Mismatched, tested on the original images instead of their twins, the same weights score "
             f"{span(list(first['diff']))} points (original − twin; for {len(clear)} of {len(first)} networks the 95 % "
             "interval excludes zero); trained on the originals instead of the twins and tested on the originals, "
             + "; ".join(f"{_name(r.model)} {signed(-r.diff)} points ({r.verdict})" for r in training.itertuples()) + ". ")
    text += (f"Fitted on the originals rather than on their twins, the palette's colours move by a median of "
             f"{palette['median_delta_e']:.1f} CIELAB units (at most {palette['max_delta_e']:.1f}), and "
             f"{palette['labels_changed_own_palettes']:.1f} % of the training pixels change category; with one palette "
             f"for both, the JPEG encoding alone changes the category of {palette['labels_changed_one_palette']:.1f} %.")
    return text


def precision_sentence(effect, sweep):
    """What bf16 costs, in one paragraph computed from precision_effect and the Sweep over amp."""
    bf16 = {run.info["precision"] for run in sweep.where(value=True).runs}
    if bf16 != {"bf16"}:
        return ("This machine computes no bfloat16 natively, so both arms trained in float32 here: the comparison "
                "needs a CPU with AVX512-BF16 or AMX, or a GPU.")
    parts = [f"{_name(r.model)} {signed(r.diff)} points ({said(r.interval)})" for r in effect.itertuples()]
    clear = effect[effect.verdict == "clear"]
    verdict = ("bf16 costs no accuracy that the seeds can tell apart" if clear.empty else
               "; ".join(f"the {_name(r.model)} is clearly {'better' if r['diff'] > 0 else 'worse'} in bf16"
                         for _, r in clear.iterrows()))
    return (f"Against float32, bf16 changes the final accuracy by {', '.join(parts)}: {verdict}. Float32 takes "
            f"{effect.time_ratio.min():.1f} to {effect.time_ratio.max():.1f} times as long as bf16 on the machine that "
            "trained them.")


def _name(model):
    return MODELS[model]


def said(interval):
    """An interval's verdict with its bounds, e.g. "clear, 95 % interval [0.4, 2.1]"; "one seed: no interval"."""
    return interval.verdict if math.isnan(interval.low) else f"{interval.verdict}, 95 % interval {interval}"


def listed(names):
    """"a", "a and b", "a, b and c"."""
    names = list(names)
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def beside_lookup(arch, base):
    """Which rows of the comparison (stats.architecture_table) score above the per-grey-level lookup
    (measurements.baselines), level with it and below it, each by the 95 % interval of its mean
    (claims.against_exact): "the U-Net above it; the CNN and the U-Net without skips below it"."""
    side = {}
    for _, r in arch.dropna(subset=["mean"]).iterrows():
        verdict = claims.against_exact(r["mean"], r["std"], r.runs, base["grey_lookup"]).verdict
        side.setdefault({"ours higher": "above it", "ours lower": "below it"}.get(verdict, "level with it"), []).append(
            f"the {network(r.row)}")
    return "; ".join(f"{listed(side[where])} {where}" for where in ("above it", "level with it", "below it") if where in side)


def baselines_sentence(arch, base):
    """What the predictors without a network score (measurements.baselines) and where the rows of the
    comparison stand against the per-grey-level lookup (beside_lookup)."""
    ceiling = ("no one colour scores more on the test pixels" if math.isclose(base["majority"], base["majority_of_test"])
               else f"the test pixels' own most frequent colour, its ceiling, gives {base['majority_of_test']:.1f} %")
    return (f"Without a network, chance scores {base['chance']:.1f} % and painting every pixel the colour most frequent "
            f"on the training pixels {base['majority']:.1f} % ({ceiling}). Giving each grey level the colour most "
            f"frequent at that level on the training pixels, a lookup that sees one pixel and no context, scores "
            f"{base['grey_lookup']:.1f} %: {beside_lookup(arch, base)} (by the 95 % interval of each network's mean).")


def _settings(rows, what):
    """Rows of stats.curves named, grouped by network: "the CNN at kernel size 7 and 9" (what: the swept
    setting in words; None for a comparison of networks: "the CNN and the U-Net")."""
    if not what:
        return listed(f"the {network(r)}" for r in dict.fromkeys(rows.row))
    return listed(f"the {network(row)} at {what} {listed(number(v) for v in g.value)}"
                  for row, g in rows.groupby("row", sort=False))


def curves_sentence(facts, what=None):
    """What a sweep's curves show (stats.curves): where validation loss is lowest, which settings
    overfit (lowest before the last epochs, then higher while the training loss kept falling) and
    which were still rising in validation accuracy at the last epoch."""
    from cnnreport.analysis.stats import RISING_EPOCHS as last
    if facts.empty:
        return "No run finished, so there is no curve to read."
    early = facts[facts.lowest_epoch <= facts.epochs - last]
    overfit, level = early[early.train_change < 0], early[early.train_change >= 0]
    parts = []
    if len(overfit):
        parts.append(f"validation loss is lowest before the last {last} epochs and higher at the end while the training "
                     "loss falls, the mark of overfitting, for " + listed(
                         f"{_settings(g, what)} (lowest at epoch{'s' if len(g) > 1 else ''} {listed(map(str, g.lowest_epoch))}, "
                         f"then up {listed(f'{r:.3f}' for r in g.rise)} by the last epoch)" for _, g in overfit.groupby("row", sort=False)))
    if len(level):
        parts.append(f"validation loss is lowest earlier, with the training loss no lower since, for {_settings(level, what)}")
    if len(early) < len(facts):
        parts.append(f"validation loss is lowest within the last {last} epochs for "
                     + ("every setting" if early.empty else "the others"))
    rising = facts[facts.rising]
    parts.append(f"validation accuracy is still rising at the last epoch (its least-squares slope over the last {last} "
                 f"epochs, times {last - 1}, above the std of its epoch-to-epoch changes there) for "
                 + ("every setting" if len(rising) == len(facts) else _settings(rising, what) if len(rising) else "none"))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def size_sentence(table, reference=32):
    """Whether width explains the residual network's gap to the original report, and whether the
    residual block pays at equal compute, from size_table."""
    from cnnreport.analysis.measurements import best_width_against_original
    res, unet = table[table.model == "resnet"].reset_index(drop=True), table[table.model == "unet"].reset_index(drop=True)
    base = res[res.num_filters == reference]
    if base.empty or len(res) < 2:
        return "These runs cover too few widths to say what size does."
    base = base.iloc[0]
    top, against_original = best_width_against_original(table)
    gap = claims.welch(base["mean"], base["std"], base.seeds, top["mean"], top["std"], top.seeds)
    seed = ORIGINAL["final"]["resnet"]["val_acc"]
    text = (f"From NF {res.num_filters.min()} to NF {res.num_filters.max()} ({res.mult_adds.max() / base.mult_adds:.1f}x the "
            f"multiply-adds at NF {reference}) the residual network's accuracy moves between {res['mean'].min():.1f} and "
            f"{res['mean'].max():.1f} %. Its best width, NF {top.num_filters}, is {signed(gap.diff)} points from NF {reference} "
            f"({said(gap)}), and still {seed - top['mean']:.1f} points below the original report's {seed:.1f} % "
            f"({said(against_original)}): "
            + ("width does not explain the gap." if against_original.verdict == "ours lower" else
               "width could explain the gap."))
    pairs = []
    for r, u in zip(res.itertuples(), unet.itertuples()):
        step = claims.welch(u.mean, u.std, u.seeds, r.mean, r.std, r.seeds)
        pairs.append(f"NF {r.num_filters} against the U-Net at NF {u.num_filters}: {signed(step.diff)} points ({said(step)})")
    if pairs:
        text += (" At matched multiply-adds, the residual network against the U-Net: " + "; ".join(pairs) + ".")
    return text


def compute_sentence(table, on_frontier, seed):
    """What the accuracy-against-compute figure shows, from settings(), frontier() and original_compute()."""
    best = table[on_frontier].sort_values("compute")
    names = [f"{_name(r.model)} NF {r.num_filters} kernel {r.kernel}" + (f" lr {number(r.lr)}" if r.lr != 0.001 else "")
             + (" rebalanced" if r.rebalance else "") for r in best.itertuples()]
    text = (f"Of {len(table)} settings, {len(best)} lie on the efficient frontier (none cheaper is as accurate): "
            f"{', '.join(names)}.")
    estimated = seed[seed.estimated]
    if not estimated.empty:
        r = estimated.iloc[0]
        ours = best[best.compute <= r.compute]["mean"].max()
        text += (f" The original report's residual network, placed from its time at {r.compute / 1e12:.0f} TMAC on the "
                 f"assumption that its machine ran it at the multiply-accumulates per second it ran its U-Net, lies "
                 f"{r['mean'] - ours:.1f} points above our frontier there"
                 + (f"; our own residual network ran at {r.our_rate:.1f} times our U-Net's rate, so the estimate may be "
                    "off by about that factor." if not math.isnan(r.our_rate) else "."))
    return text


def consistency_sentence(pairs, ours):
    """What the original report's (loss, accuracy) pairs say against our relation (consistency), one
    paragraph; ours: consistency.ours_off, our own runs off the relation by the same rule."""
    if pairs.distance.isna().all():
        return "Too few of these runs learned to fit a relation between loss and accuracy."
    parts = []
    for model, g in pairs.dropna(subset=["distance"]).groupby("model", sort=False):
        where = (f"{signed(g.distance.iloc[0])} points" if len(g) == 1 else
                 f"{signed(g.distance.min())} to {signed(g.distance.max())} points")
        off = int((g.verdict == "off the relation").sum())
        beyond = "" if g.within_range.all() else " (partly at losses below any of ours, where the relation is extrapolated)"
        parts.append(f"its {_name(model)}'s {len(g)} pair{'s' if len(g) > 1 else ''} lie{'s' if len(g) == 1 else ''} "
                     f"{where} from our {_name(model)}s' relation, {off} beyond twice our scatter{beyond}")
    off, fitted = ours
    total = int(pairs.distance.notna().sum())
    mine = int((pairs.verdict == "off the relation").sum())
    above = (pairs.distance.dropna() > 0).mean()
    return ("Against the accuracy our runs reach at the same validation loss, " + "; ".join(parts) + ". "
            f"That is {mine} of the original's {total} pairs off the relation, against {off} of our own {fitted} runs "
            f"({off / fitted:.0%}) by the same rule. "
            + (f"{above:.0%} of the original's pairs lie above our relation: at the same cross-entropy it counted more "
               "pixels right than we do. A difference in how accuracy was measured (another palette, other images) would "
               "do that, and a better network would instead move along the relation; but no measurement here tests "
               "either, so this is a hypothesis."
               if above > 0.5 else "Most of the original's pairs lie on or below our relation."))


def gaps_sentence(gaps):
    """The architecture gaps and what the clear measured effects account for, one paragraph (causes.architecture_gaps)."""
    if gaps.empty:
        return "No network of the comparison was trained as long as the original report's runs: no gap to weigh."
    parts = []
    for r in gaps.itertuples():
        clear = [{"data": "the original images", "precision": "float32"}[name] for name in r.clear]
        moved = (f"; of the measured effects only {' and '.join(clear)} would move ours, by {signed(r.counted.diff)} "
                 f"points together, leaving {signed(r.left.diff)} ({said(r.left)})" if clear else
                 "; no measured effect is clear, so none explains any of it")
        parts.append(f"the {_name(r.model)} is {signed(r.gap.diff)} points from the original's ({said(r.gap)}){moved}")
    return ("Against each network's number in the original report: " + "; ".join(parts) + ". The effects sum only where "
            "each is clear, their intervals combined; the data are counted once, by the comparison trained and tested on "
            "the original images. What is left is not measured here: the original report describes its training no "
            "further than its settings.")


def best_epoch_gap(grid):
    """How far each run's best epoch beats its final one, over a Sweep."""
    gap = grid.table.best_val_acc - grid.table.val_acc
    return (f"Over our {len(gap)} runs the best epoch beats the final one by {gap.mean():.1f} points on average "
            f"and {gap.max():.1f} at most.")


def kernel_claim(best):
    """The original report's claim that kernel 3 is best, against our best kernels (stats.best_values)."""
    def answer(r):
        if r.best is None:
            return f"{MODELS[r.model]}: {r.verdict}"
        agrees = "agrees" if r.best == 3 else "disagrees"
        how = ("clearly" if r.clear else "on one seed (no interval)" if r.verdict.startswith("one seed")
               else f"but not clearly ({said(r.interval)} against the runner-up)")
        return f"the {MODELS[r.model]}'s best is kernel {number(r.best)}, which {agrees}, {how}"
    return "The original report finds kernel 3 best for both networks. Ours: " + "; ".join(map(answer, best.itertuples())) + "."


def kernel_weighing(best, facts):
    """Per network, its best kernel against the larger ones, weighing the two readings of why those score
    lower: the receptive field each kernel gives an output pixel (larger: more context) against
    overfitting as its curves show it (stats.curves). best: stats.best_values of the kernel sweep."""
    from cnnreport.analysis.stats import RISING_EPOCHS
    from cnnreport.report.tables import receptive_fields
    field = receptive_fields(sorted(set(facts.value)))
    parts = []
    for r in best.dropna(subset=["best"]).itertuples():
        f = facts[facts.model == r.model].set_index("value")
        larger = f[f.index > r.best]
        if larger.empty:
            continue
        over = larger[(larger.lowest_epoch <= larger.epochs - RISING_EPOCHS) & (larger.train_change < 0)]
        rf = {k: field[k, r.model]["rf"] for k in [r.best, *larger.index]}
        text = (f"for the {MODELS[r.model]}, kernel{'s' if len(larger) > 1 else ''} {listed(number(k) for k in larger.index)} "
                f"give an output pixel a field of {listed(str(rf[k]) for k in larger.index)} pixels a side against kernel "
                f"{number(r.best)}'s {rf[r.best]}, yet score lower")
        if len(over):
            text += (f"; {listed(number(k) for k in over.index)} overfit (validation loss lowest at epoch"
                     f"{'s' if len(over) > 1 else ''} {listed(map(str, over.lowest_epoch))} of {int(over.epochs.iloc[0])}, "
                     "higher at the end while the training loss falls): overfitting, not too small a field, is what the "
                     "curves show" + ("" if len(over) == len(larger) else
                                       f"; {listed(number(k) for k in larger.index.difference(over.index))} do"
                                       f"{'es' if len(larger) - len(over) == 1 else ''} not overfit, and why "
                                       f"{'it scores' if len(larger) - len(over) == 1 else 'they score'} lower is not measured here"))
        else:
            text += "; none overfits by its curves, so overfitting does not explain the difference"
        parts.append(text)
    if not parts:
        return ""
    text = "; ".join(parts)
    return "Why larger kernels score lower, read off the curves and the receptive fields: " + text + "."


def samples_sentence(rows):
    """What a grid of colourizations (gallery.sample_rows: grey input, truth, truth in the palette, then
    one row per network or decoding) shows: per row, the share of the shown pixels given their true
    colour category (the palette truth's colour) and the colourfulness of its images against the truth's."""
    from cnnreport.science.colour import colourfulness
    from cnnreport.training.evaluate import ROWS
    truth, palette_truth = rows[ROWS[1]], rows[ROWS[2]]
    named = {name: images for name, images in rows.items() if name not in ROWS[:3]}
    right = {name: 100 * ((images - palette_truth).abs().amax(1) < 1.5 / 255).double().mean().item()
             for name, images in named.items()}
    vivid = {name: colourfulness(images).mean().item() for name, images in named.items()}
    return (f"In these {len(truth)} images the share of pixels given their true colour category is "
            + listed(f"{right[name]:.0f} % ({name})" for name in sorted(named, key=right.get, reverse=True))
            + "; the colourfulness of the colours is "
            + listed(f"{vivid[name]:.0f} ({name})" for name in sorted(named, key=vivid.get, reverse=True))
            + f", against {colourfulness(truth).mean().item():.0f} for the true images.")


def confusion_sentence(matrix, near=2):
    """What a confusion matrix (rows true, columns predicted; palette sorted dark to light) shows: how
    many of the wrongly coloured pixels get a category at most `near` places from the true one in that
    order (a near miss in brightness), how many colours it hardly ever predicts, and its favourite's share."""
    m = matrix.double()
    n, total = len(m), m.sum().item()
    i = torch.arange(n)
    wrong = total - m.diag().sum().item()
    gap = (i[:, None] - i[None, :]).abs()
    close = m[(gap >= 1) & (gap <= near)].sum().item()
    recall = m.diag() / m.sum(1).clamp(min=1)
    rare = int(((recall < 0.01) & (m.sum(1) > 0)).sum())
    return (f"Of the test pixels it colours wrongly, {100 * close / wrong:.0f} % get a category at most {near} places from "
            f"the true one in the palette's dark-to-light order, near misses in brightness; {rare} of the {n} colours "
            f"get fewer than 1 % of their own pixels right, and its most predicted colour takes "
            f"{100 * m.sum(0).max().item() / total:.0f} % of all pixels, against {100 * m.sum(1).max().item() / total:.0f} % "
            "for the most frequent true colour.")


def table_notes(table):
    """What a summary table (stats.summary) needs said beyond its caption, only where it applies: the
    settings that diverged or collapsed, and values with one seed; "" when nothing applies."""
    notes = []
    if (table.diverged > 0).any():
        notes.append("Diverged runs read *diverged* and count in no mean.")
    if table.acc.str.contains("collapsed").any():
        notes.append("A setting whose runs give one colour to at least 90 % of the test pixels reads *collapsed*.")
    if (table.runs == 1).any():
        notes.append("With one seed per value there is no interval and no ranking.")
    return " ".join(notes)


def unmeasured_sentence(missing):
    """The effects of the architecture comparison that its runs cannot measure (stats.unmeasured), so
    that a reader does not take a difference that carries several changes for one change's; "" when
    every effect is measured."""
    if not missing:
        return ""
    said = [what.replace(", ", " ").replace("their interaction", "the interaction of down/up-sampling and skips")
            for what in missing]
    return (f"These runs lack the rows that would measure {listed(said)}; until they are trained, the "
            f"difference of a change whose last column lists more than that change carries all it lists.")


def spans_sentence(sweeps):
    """Which swept setting moves accuracy most ({what: Sweep}): per setting, the span of the mean final
    accuracy over its values, for each network (the lesson of the sweeps together)."""
    from cnnreport.analysis.stats import spans as spans_of
    spans = {what: spans_of(grid) for what, grid in sweeps.items()}
    order = sorted(spans, key=lambda w: spans[w].max(), reverse=True)
    def said(what):
        s = spans[what]
        return (f"{what} by {s.min():.1f} to {s.max():.1f} points" if len(s) > 1 and not math.isclose(s.min(), s.max(), abs_tol=0.05)
                else f"{what} by {s.max():.1f} points")
    return (f"Over the values tried, the mean final accuracy of a network moves with {listed(said(w) for w in order)}: "
            f"{order[0]} matters most here and {order[-1]} least.")


def sweep_sentence(table, what):
    """What a sweep's accuracy plot (plots.sweep_plot) shows, per network (stats.summary): where the
    mean peaks, the span over the values, and on which side of the original report's numbers ours lie."""
    parts = []
    for row, g in table.dropna(subset=["mean"]).groupby("row", sort=False):
        peak = g.loc[g["mean"].idxmax()]
        text = (f"the {network(row)}'s mean peaks at {what} {number(peak.value)} ({peak['mean']:.1f} %) and spans "
                f"{g['mean'].max() - g['mean'].min():.1f} points")
        theirs = g.dropna(subset=["original"])
        if len(theirs):
            diff = theirs["diff"]
            side = (f"above the original report's at every {what}" if (diff > 0).all() else
                    f"below the original report's at every {what}" if (diff < 0).all() else "on both sides of the original report's")
            text += f", ours {side} ({signed(diff.min())} to {signed(diff.max())} points)"
        parts.append(text)
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "." if text else ""


def quality_sentence(plain):
    """Which network is best on each colour metric, if one is clearly (claims.ranking), and how dull
    the predictions are (stats.metric_table rows)."""
    def best(metric, unit):
        digits = claims.DIGITS[metric]
        first, second, gap, verdict = claims.ranking(list(plain[metric]), list(plain[f"{metric}_std"]), list(plain.runs),
                                                     digits)
        row = plain.iloc[first]
        if verdict == "clear":
            return (f"the **{MODELS[row.model]}** ({row[metric]:.{digits}f} {unit}, clearly: "
                    f"{gap.diff:.{digits}f} above the {MODELS[plain.model.iloc[second]]}, 95 % interval {gap})")
        low, high = plain[metric].min(), plain[metric].max()
        why = ("one seed each, no ranking" if verdict.startswith("one seed") else
               f"the {MODELS[row.model]} leads the {MODELS[plain.model.iloc[second]]} by {gap.diff:.{digits}f}, {said(gap)}")
        return f"no network clearly ({low:.{digits}f} to {high:.{digits}f} {unit}; {why})"
    true_colour = plain.colourfulness_true.iloc[0]
    dullest = plain.loc[plain.colourfulness.idxmin()]
    below = plain.pixel_acc - plain.balanced_acc
    return (f"The best network by pixel accuracy is {best('pixel_acc', '%')}, by balanced accuracy {best('balanced_acc', '%')}, "
            f"by AuC {best('auc', '%')} and by PSNR {best('psnr', 'dB')}. "
            + ("Every network paints duller than the truth: " if (plain.colourfulness < true_colour).all() else "Colourfulness: ")
            + f"the true horses' colourfulness is {true_colour:.1f}, the predictions' {plain.colourfulness.min():.1f} "
            f"(the {MODELS[dullest.model]}) to {plain.colourfulness.max():.1f}. Balanced accuracy sits {below.min():.1f} to "
            f"{below.max():.1f} points below pixel accuracy: the rare colours are predicted less often than they occur.")


def rebalancing_sentence(effect):
    """What rebalancing changes for each network, with the paired interval and verdict of each change
    (stats.rebalancing_effect), and whether it keeps its promise where the changes are clear."""
    parts = []
    for model, g in effect.groupby("model", sort=False):
        e = g.set_index("metric")
        parts.append(f"the {MODELS[model]}: pixel accuracy {signed(e.change['pixel_acc'])} points "
                     f"({said(e.interval['pixel_acc'])}), balanced accuracy {signed(e.change['balanced_acc'])} points "
                     f"({said(e.interval['balanced_acc'])}), colourfulness {signed(e.change['colourfulness'])} "
                     f"({said(e.interval['colourfulness'])})")
    return "Rebalancing changes, for " + "; for ".join(parts) + ". " + rebalancing_verdict(effect) + "."


def rebalancing_verdict(effect):
    """Which of rebalancing's promises (less pixel accuracy, more balanced accuracy, more colour)
    hold clearly for how many networks (stats.rebalancing_effect rows)."""
    from cnnreport.analysis.stats import promises_kept
    kept = promises_kept(effect)
    return (f"Its colour gain is clear for {kept['colourfulness']} of {effect.model.nunique()} networks, its balanced-accuracy "
            f"gain for {kept['balanced_acc']} and its pixel-accuracy cost for {kept['pixel_acc']}")


def decodings_sentence(decoded):
    """The three decodings against each other (stats.decodings rows), averaged over the runs given
    (one seed each: no verdict, which the sentence says)."""
    by = decoded.groupby("decoding", sort=False)[["pixel_acc", "auc", "colourfulness"]].mean()
    return (f"Averaged over these runs (one seed of each network, so no verdict) the argmax gives "
            f"{by.pixel_acc['argmax']:.1f} % of pixels right and colourfulness "
            f"{by.colourfulness['argmax']:.1f}; the mean {by.pixel_acc['mean']:.1f} % and {by.colourfulness['mean']:.1f}; "
            f"the annealed mean {by.pixel_acc['annealed']:.1f} % and {by.colourfulness['annealed']:.1f}. By AuC, "
            f"the colour error's measure, the {by.auc.idxmax()} scores highest ({by.auc.max():.1f} %, against "
            f"{by.auc.min():.1f} % for the {by.auc.idxmin()}).")


def chance_sentence(repro):
    """Whether chance explains the differences from the original report (stats.reproduction): our
    spread over seeds, and the spread of the original's own repeats of one setting."""
    from cnnreport.analysis.original import seed_repeats
    final = repro[repro.epoch == "final"]
    repeats = seed_repeats()
    ranges = {m: max(v) - min(v) for m, v in repeats.items()}

    def reads(m, v):
        if ranges[m] == 0:   # the same number each time: more likely one run quoted again than repeats
            return f"Its {MODELS[m]} reads {v[0]:.1f} % all {len(v)} times, more likely one run quoted again than {len(v)} runs."
        return f"Its {MODELS[m]} reads {', '.join(f'{a:.1f}' for a in v)} % (a range of {ranges[m]:.1f} points)."
    beyond = final[final.verdict.isin(["ours higher", "ours lower"])]
    return (" ".join(reads(m, v) for m, v in repeats.items())
            + f" Our std over seeds has a median of {final['std'].median():.1f} points over the settings of @tab:repro. "
            f"The prediction interval of one more run of ours, which counts the seed noise of the original report's "
            f"single runs as well as ours, excludes its number for {len(beyond)} of the {len(final)} final-epoch "
            f"settings (the verdicts of @tab:repro): "
            + ("chance alone does not explain those." if len(beyond) else "chance can explain every one."))


def best_epoch_sentence(repro):
    """How much comparing our best epochs instead of our last would move the differences (stats.reproduction)."""
    final = repro[repro.epoch == "final"]
    moved = final.best_diff - final["diff"]
    return (f"Over the {len(final)} final-epoch rows of @tab:repro, comparing our best epochs instead of our last moves "
            f"the median difference from {signed(final['diff'].median())} to {signed(final.best_diff.median())} points "
            f"(at most {moved.max():.1f} points for one setting): the choice of epoch explains "
            f"{'little' if moved.abs().median() < final['diff'].abs().median() / 2 else 'much'} of the differences.")


def receptive_field_sentence(kernels):
    """What the receptive fields say about the networks (tables.receptive_fields)."""
    from cnnreport.report.tables import receptive_fields
    field = {key: row["rf"] for key, row in receptive_fields(kernels).items()}
    k = 3 if 3 in kernels else kernels[-1]
    cnn, unet, resnet = field[k, "cnn"], field[k, "unet"], field[k, "resnet"]
    smallest = min(kernels)
    blind = max(f for (kernel, _), f in field.items() if kernel == smallest)
    return (f"Two things stand out. With a {k}x{k} kernel the base CNN's output pixel sees {cnn}x{cnn} of the 32x32 "
            f"input, while the U-Net's sees only {unet}x{unet}; the architecture comparison measures which colours better, "
            "and how much of the difference its learned down- and up-sampling and its skips each account for, so a "
            "larger field is not by itself an advantage. The residual network combines a "
            f"{resnet}x{resnet} field {'(larger than the image) ' if resnet > 32 else ''}with full-resolution features. And a "
            f"{smallest}x{smallest} kernel leaves every network with a field of at most {blind} pixels, nearly blind to "
            "context: what one pixel's grey level alone can do is measured by the per-grey-level lookup of the "
            "architecture section.")


def residual_cost_sentence(kernel, num_filters, num_colours):
    """The residual network's weights and multiply-adds over the U-Net's, at the assignment's widths and, where
    they differ, at the widths of the runs."""
    from cnnreport.science.layers import layer_table, total
    from cnnreport.science.models import build_model

    def ratio(q, nf, nc):
        return (total(layer_table(build_model("resnet", kernel, nf, nc)), q)
                / total(layer_table(build_model("unet", kernel, nf, nc)), q))
    return (f"At the assignment's NF = 32, NC = 24 the residual network has {ratio('params', 32, 24):.1f} times the "
            f"U-Net's weights and {ratio('mult_adds', 32, 24):.1f} times its multiply-adds per image"
            + ("." if (num_filters, num_colours) == (32, 24) else
               f"; at the runs' NF = {num_filters}, NC = {num_colours}, {ratio('params', num_filters, num_colours):.1f} and "
               f"{ratio('mult_adds', num_filters, num_colours):.1f} times."))


def width_time_sentence(sweep):
    """What doubling NF does to the time per run in the NF sweep, against what it does to the
    multiply-adds of the runs' networks."""
    from cnnreport.analysis.compute import mult_adds
    from cnnreport.analysis.stats import summary

    def work(model, nf):
        return mult_adds(sweep.where(model=model, value=nf).runs[0].config)
    parts, slower = [], True
    for model, g in summary(sweep).groupby("model", sort=False):
        seconds = dict(zip(g.value, g.seconds))
        pairs = [(nf, 2 * nf) for nf in seconds if 2 * nf in seconds]
        if not pairs:
            continue
        time = [seconds[b] / seconds[a] for a, b in pairs]
        more = [work(model, b) / work(model, a) for a, b in pairs]
        slower &= all(t < w for t, w in zip(time, more))
        parts.append(f"the {MODELS[model]}'s time per run by {min(time):.1f} to {max(time):.1f} (its multiply-adds by "
                     f"{min(more):.1f} to {max(more):.1f})")
    if not parts:
        return "The NF sweep has no two widths a factor of two apart."
    return ("In the NF sweep, doubling NF multiplies " + " and ".join(parts) + ": the time grows "
            + ("more slowly than the arithmetic at these widths." if slower else "as fast as the arithmetic or faster."))


def shared_runs_sentence(sweeps):
    """Which runs appear in more than one of the sweeps' tables ({notebook: Sweep}; the store trains each setting once)."""
    seen = {}
    for nb, grid in sweeps.items():
        for run in grid.runs:
            seen.setdefault(run.path, (run, []))[1].append(nb)
    shared = [(run, nbs) for run, nbs in seen.values() if len(nbs) > 1]
    if not shared:
        return "Every run below appears in one table only."
    settings = {}
    for run, nbs in shared:
        c = run.config
        settings.setdefault((MODELS[c.model], c.num_filters, c.kernel, c.lr, len(nbs)), []).append(c.seed)
    listed = "; ".join(f"the {m} at NF {nf}, kernel {k}, learning rate {number(lr)} ({len(seeds)} seeds, in {n} tables)"
                       for (m, nf, k, lr, n), seeds in settings.items())
    return (f"{len(shared)} of these {len(seen)} runs appear in more than one table, trained once and shown wherever "
            f"their setting belongs: {listed}.")


def common_settings(experiments):
    """The settings that settings_table leaves out, in words: those every run of the experiments
    ({title: (the field it varies or None, its Configs)}) shares unless its experiment varies them."""
    from cnnreport.analysis.sweeps import differing
    from cnnreport.report.present import setting
    from cnnreport.training.config import Config

    def said(name):
        value = next(getattr(c, name) for field, cs in experiments.values() if field != name for c in cs)
        return "all" if name.endswith("_images") and not value else setting(value)
    shared = [f for f in Config.names() if f not in ("model", "seed", *differing(experiments))]
    return ("Unless its experiment varies it, every run has the same " +
            "; ".join(f"{field_name(f)}: {said(f)}" for f in shared) + ".")
