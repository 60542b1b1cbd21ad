# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (hashkit)
#     language: python
#     name: hashkit
# ---

# %% [markdown]
# # The reproduction ledger
#
# Each paper chapter ends by checking the paper's claims against the numbers of its own run. This
# page puts those checks side by side: every claim of the five papers, where the paper makes it, the
# evidence this run found and the verdict, with a link back to the chapter that computed it. It is
# assembled from the claims table each chapter saved in its last good run and recomputes nothing;
# `make book` assembles it again whenever a chapter reruns, so it never lags behind a chapter.

# %% tags=["parameters"]
smoke: bool = False  # accepted as every chapter accepts it; the ledger only reads, so it has nothing to shrink
out_dir: str = "book/executed/ledger"  # where tables (CSV) and figures (PNG, SVG) are written

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from hashkit.artifacts import save_figure, save_table
from hashkit.chapter import start_chapter
from hashkit.claims import DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, WITHIN_NOISE
from hashkit.display import readable
from hashkit.ledger import ALL_PAPERS, count_verdicts, ledger_view, read_deviations, read_ledger, verdict_figure

parameters, out_dir, clock = start_chapter(globals(), "ledger")
with clock.section("reading the chapters' tables"):
    ledger = read_ledger()
    deviations = read_deviations()
repeated, timed = ledger[~ledger["timed"]], ledger[ledger["timed"]]

# %% [markdown]
# ## What a verdict says
#
# A chapter never types a verdict in: it writes each claim as a test on its run's numbers with a
# stated margin (`hashkit.claims`), and the test decides.
#
# * **holds**: this run's numbers agree with the claim by more than the margin the evidence prints.
# * **does not hold**: they do not, and the evidence lists the cells that go against the claim.
# * **within noise at n seed(s)**: the claim compares two methods whose difference is smaller than
#   its measured noise. With $a$ and $b$ the two scores of a cell and $\sigma$ the noise of $a - b$
#   over queries and seeds, "$a$ beats $b$" holds when $a - b > \sigma$ in every cell, does not hold
#   when $b - a > \sigma$ in some cell, and is otherwise within noise: this run cannot tell, and more
#   seeds might.
# * **not testable here**: the run lacks a number the claim needs (a dataset whose files were not
#   given, a method not run), and the evidence names it.
#
# Claims about speed rest on wall-clock seconds, which no two runs repeat exactly, so the chapters
# save them apart from the claims a rerun with the same seeds repeats to the byte; this page counts
# them apart too and marks them *wall-clock* in the ledger.
#
# ## The verdicts, counted
#
# The claims a rerun repeats exactly, per paper:

# %% tags=["hide-input"]
counts = count_verdicts(repeated)
save_table(counts, out_dir, "counts")
save_table(repeated, out_dir, "ledger")
readable(counts)

# %% [markdown]
# The claims about speed, per paper:

# %% tags=["hide-input"]
timing_counts = count_verdicts(timed)
save_table(timing_counts, out_dir, "timing_counts")
save_table(timed, out_dir, "timing_ledger")
readable(timing_counts)

# %% tags=["hide-input"]
overall = counts.set_index("paper").loc[ALL_PAPERS]
speed = timing_counts.set_index("paper").loc[ALL_PAPERS]
display(Markdown(
    f"Across the {ledger['paper'].nunique()} papers, **{overall[HOLDS]}** of the {overall['total']} claims that a "
    f"rerun repeats hold in this run ({overall[HOLDS] / overall['total']:.0%}), **{overall[DOES_NOT_HOLD]}** do "
    f"not, **{overall[WITHIN_NOISE]}** are within noise and **{overall[NOT_TESTABLE]}** cannot be tested here. "
    f"Of the {speed['total']} claims about speed, **{speed[HOLDS]}** hold and **{speed[DOES_NOT_HOLD]}** do not."))

# %% tags=["hide-input"]
figure = verdict_figure(counts, title="Verdicts of the claims a rerun repeats, per paper")
save_figure(figure, out_dir, "verdicts_by_chapter")

# %% [markdown]
# ## Every claim
#
# Each link leads to the claims section of the chapter that checked the claim; the tables and
# figures above that section hold the numbers the evidence quotes.

# %% tags=["hide-input"]
ledger_view(ledger)

# %% [markdown]
# ## What the verdicts rest on
#
# No chapter runs its paper as the paper ran it. The defaults keep each chapter within about twenty
# minutes on two CPU cores, where the papers trained large networks, most of them from ImageNet
# weights, on datasets and hardware that a default run does not have. Each chapter lists how its run
# departs from its paper; every difference is a parameter, and `book/rerun.md` gives the command
# that runs each chapter at its paper's scale. The chapter {doc}`compare` takes the other way out:
# it retests each paper's headline with every method on one protocol, so that the stand-ins are at
# least the same for all.

# %% tags=["hide-input"]
save_table(deviations, out_dir, "deviations_by_chapter")
display(Markdown(
    f"Every verdict above rests on these stand-ins: the {len(deviations)} departures of the "
    f"{deviations['chapter'].nunique()} chapters, among them the data, the network and the length of training. "
    "A claim that holds here holds for the stand-ins; one that does not may fail because of them, and each "
    "chapter's section *Why results differ from the paper* weighs them against its own tables."))
readable(deviations)

# %% [markdown]
# ## Wall time of this run

# %%
timing = clock.table()
save_table(timing, out_dir, "timing_sections")
timing.round(1)
