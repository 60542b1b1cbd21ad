"""The whole book: every chapter executed with smoke parameters, the HTML built with warnings as
errors, every page opened in headless Chromium (its images, its links and their anchors, no failed
cell; each chapter's tables, figures and formulas), and a rerun giving the same tables."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.conftest import build_book, missing

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=8000"]

# What each chapter must show: each table by a column header it carries, each figure by the file it saves.
CHAPTERS = {
    "foundations": (["labels per image", "query rule", "train in database", "precision at rank", "AP@3",
                     "shuffled, seed 0", "mean buckets probed", "HammingIndex (faiss)"],
                    ["fashion_mnist_samples", "mosaic_samples", "hamming_radius_metrics", "buckets_per_radius",
                     "f1_bucket_curves", "timing_search_speed"]),
    "fdah": (["stands for", "aspect", "fashion-mnist", "nus-wide ← fashion-mosaic", "asymmetric deep",
              "cifar10 ← fashion-mnist", "12 bits (s)", "verdict", "section"],
             ["radius_metrics_fashion-mnist", "timing_table2_training_time", "fig4_sensitivity"]),
    "mch": (["stands for", "nus-wide ← fashion-mosaic", "gain (ours)", "noise (±)", "agreement", "oracle ANHC",
             "region holds", "verdict", "section"],
            ["table1_losses", "mosaic_examples", "fig3_4_radius0", "fig5_7_f1_bucket", "keep_probabilities",
             "fig2_regions", "fig8_retrievals", "fig9_sensitivity"]),
    "dshc": (["distinct codes", "why not run", "stands for", "aspect", "cifar10 ← fashion-mnist", "paper runtime",
              "paper sub-classes", "recall r=0", "ranking", "verdict", "section"],
             ["kbc_seed_survey", "fig2_tsne", "fig3_radius_curves"]),
    "bgan": (["construction", "stands for", "aspect", "cifar10 ← fashion-mnist", "nus-wide ← fashion-mosaic",
              "distinct database codes", "training / DH", "verdict", "section"],
             ["fig2_neighbourhood_precision", "fig3_continuation", "fig4_precision_at_n", "fig5_convergence",
              "fig6_reconstructions"]),
    "dsah": (["similarity", "F_w", "stands for", "aspect", "cifar10 ← fashion-mnist", "mir-flickr ← fashion-mosaic",
              "variant", "MAP@K (SGD)", "silhouette", "P@10", "ratio to DSAH", "verdict", "section"],
             ["fig3_pr_curves", "fig3_precision_at_n", "fig7_rounds", "fig8_sensitivity", "fig9_gamma_rounds",
              "fig5_heat_maps", "fig10_tsne", "fig11_retrievals"]),
    "compare": (["stands for", "aspect", "mAP@all", "mAP@K", "P within r", "training ms / image", "buckets to reach",
                 "peak MB", "verdict", "section"], ["map_by_method"]),
    "ledger": (["paper", "holds", "within noise", "not testable here", "verdict", "link", "aspect", "this run",
                "section"],
               ["verdicts_by_chapter"]),
}
# The fewest tables a chapter writes and the fewest files a rerun must repeat byte for byte; the
# ledger only gathers what the other chapters saved, and the cross-paper chapter draws one figure.
FEWEST_FILES = {"ledger": (6, 5), "compare": (8, 10)}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_is_executed_and_writes_its_artifacts(built_book, chapter):
    out_dir = built_book / "book" / "executed" / chapter
    assert (built_book / "book" / "executed" / f"{chapter}.ipynb").is_file()
    for name in CHAPTERS[chapter][1]:
        for suffix in (".png", ".svg"):
            path = out_dir / f"{name}{suffix}"
            assert path.is_file() and path.stat().st_size > 1000, path
    assert len(list(out_dir.glob("*.csv"))) >= FEWEST_FILES.get(chapter, (8, 12))[0]
    assert not list(out_dir.glob(".*.tmp")), "a temporary file was left behind"


def test_the_html_holds_every_page(built_book):
    site = built_book / "_build" / "html"
    for page in ["index.html", "book/intro.html", *(f"book/executed/{chapter}.html" for chapter in CHAPTERS),
                 "book/rerun.html", "book/adding-a-chapter.html", "book/bibliography.html"]:
        assert (site / page).is_file(), page
    bibliography = (site / "book" / "bibliography.html").read_text().lower()
    for paper in ["multiple code hashing", "hashing by classification", "fast deep asymmetric hashing",
                  "deep self-adaptive hashing", "binary generative adversarial networks"]:
        assert paper in bibliography


def rendered(built_book: Path, page: Path) -> BeautifulSoup:
    """``page`` as headless Chromium leaves it once its scripts (MathJax) have run."""
    chromium = shutil.which("chromium")
    if chromium is None:
        missing("Debian's chromium", "make test installs it when run as root")
    completed = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={built_book / '.chromium'}",
                                "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return BeautifulSoup(completed.stdout, "html.parser")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_renders_its_figures_tables_and_math_in_chromium(built_book, chapter):
    table_headers, figures = CHAPTERS[chapter]
    page = built_book / "_build" / "html" / "book" / "executed" / f"{chapter}.html"
    dom = rendered(built_book, page)
    article = dom.find("article")
    assert article is not None, "the chapter has no article element"

    images = [image for image in article.find_all("img") if image.get("src", "").endswith(".png")]
    assert len(images) >= len(figures)
    for image in images:
        source = (page.parent / image["src"]).resolve()
        assert source.is_file() and source.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image["src"]

    headers = {cell.get_text(" ", strip=True) for table in article.find_all("table") for cell in table.find_all("th")}
    for expected in table_headers:
        assert expected in headers, f"no table with a {expected!r} column in the rendered chapter"
    assert article.find("mjx-container") is not None, "MathJax did not typeset the chapter's formulas"
    assert "Traceback" not in article.get_text()


def test_every_page_of_the_site_shows_its_images_and_links_and_no_failed_cell_in_chromium(built_book):
    site = built_book / "_build" / "html"
    # index.html only redirects to the intro page, which is checked as itself.
    pages = sorted(page for page in site.rglob("*.html")
                   if not {"_static", "_sources", "_images"} & set(page.relative_to(site).parts)
                   and page.name not in ("index.html", "genindex.html", "search.html"))
    assert len(pages) >= len(CHAPTERS) + 4, [page.name for page in pages]
    ids: dict[Path, set[str]] = {}
    for page in pages:
        dom = rendered(built_book, page)
        ids[page] = {tag["id"] for tag in dom.find_all(id=True)}
        article = dom.find("article")
        assert article is not None, page
        text = article.get_text()
        assert "Traceback" not in text and not article.select(".output.error, .output.traceback"), page
        for image in article.find_all("img"):
            source = image.get("src", "")
            if not source.startswith(("data:", "http")):
                assert (page.parent / source).resolve().is_file(), (page.name, source)
        for link in article.find_all("a", href=True):
            target, _, anchor = link["href"].partition("#")
            if target.startswith(("http", "mailto:")):
                continue
            target_page = (page.parent / target).resolve() if target else page
            assert target_page.is_file(), (page.name, link["href"])
            if anchor and target_page.suffix == ".html":
                if target_page not in ids:
                    ids[target_page] = {tag["id"] for tag in BeautifulSoup(target_page.read_text(), "html.parser")
                                        .find_all(id=True)}
                assert anchor in ids[target_page], (page.name, link["href"])


def test_a_rerun_with_the_same_seed_gives_byte_identical_tables_and_figures(built_book, tmp_path):
    completed = build_book(tmp_path, "--no-html")
    assert completed.returncode == 0, completed.stderr[-5000:]
    for chapter in CHAPTERS:
        first = built_book / "book" / "executed" / chapter
        second = tmp_path / "book" / "executed" / chapter
        compared = [path.name for path in sorted(first.iterdir())
                    if path.suffix in {".csv", ".png", ".svg"} and not path.name.startswith("timing_")]
        assert len(compared) >= FEWEST_FILES.get(chapter, (8, 12))[1], chapter
        different = [name for name in compared if (first / name).read_bytes() != (second / name).read_bytes()]
        assert different == [], chapter
