"""The product cites its sources by authors, title and year, never by reference-folder file names."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The reference folder names its files "000_<hash>.txt" ... "004_<hash>.txt" and
# notes refer to them as "paper 003" or "lecture 004"; neither means anything to a
# reader of the package, who needs authors, title and year (or a DOI).
FORBIDDEN = re.compile(
    r"\b(papers?|lectures?)[\s#*]*(no\.?\s*)?0*[0-9]{1,3}\b(?![.,]\d)"
    r"|\b00[0-9]_[0-9a-f]{6,}"
    r"|shared/docs|\bmethods\.md\b|anchor-formulas\.md",
    re.IGNORECASE,
)


def _product_files():
    yield ROOT / "README.md"
    for folder, patterns in (("docs", ("*.md", "*.py")), ("skdesc", ("*.py", "*.md")), ("examples", ("*.py", "*.md"))):
        for pattern in patterns:
            yield from sorted((ROOT / folder).rglob(pattern))


def test_pattern_catches_file_name_citations():
    for text in ("(lecture 004, slide 45)", "paper 001's convention", "Paper 003", "papers 001 and 003",
                 "see 002_cfef8430d57c5bc8.txt", "`/work/shared/docs/methods.md` §4", "lecture 4",
                 "(lecture\n    004, slide 20)", "# paper\n# 001"):
        assert FORBIDDEN.search(text), text
    for text in ("Darby et al. (2022), Fig. 9", "Pelz, Materials Genomics, Unit 6, slide 45",
                 "npj Comput. Mater. 8, 166 (2022)", "paper: 10.1038/s41524-022-00847-y"):
        assert not FORBIDDEN.search(text), text


def test_no_reference_folder_names_in_the_product():
    hits = []
    for path in _product_files():
        text = path.read_text(encoding="utf-8")
        for match in FORBIDDEN.finditer(text):  # whole text: a reference may be wrapped over two lines
            line = text.count("\n", 0, match.start()) + 1
            hits.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)!r}")
    assert not hits, "cite authors, title and year (or DOI) instead of file names:\n" + "\n".join(hits)
