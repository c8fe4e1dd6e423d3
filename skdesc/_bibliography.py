"""The references behind skdesc's estimators, as BibTeX, by key.

Estimators declare which apply to them (local descriptors through
``LocalDescriptor._citations`` / ``_citation_keys()``, the others through a
``_citations`` class attribute); the matminer adapter's ``citations()`` and the
audit report read them from there.
"""

__all__ = ["CITATIONS"]

#: BibTeX entry of each reference, by key.
CITATIONS = {
    "okeeffe1979": (
        "@article{okeeffe1979,\n"
        "  author = {O'Keeffe, Michael},\n"
        "  title = {A proposed rigorous definition of coordination number},\n"
        "  journal = {Acta Crystallographica Section A},\n  volume = {35},\n  number = {5},\n"
        "  pages = {772--775},\n  year = {1979},\n  doi = {10.1107/S0567739479001765}\n}"
    ),
    "ward2017": (
        "@article{ward2017,\n"
        "  author = {Ward, Logan and Liu, Ruoqian and Krishna, Amar and Hegde, Vinay I. and "
        "Agrawal, Ankit and Choudhary, Alok and Wolverton, Chris},\n"
        "  title = {Including crystal structure attributes in machine learning models of "
        "formation energies via {Voronoi} tessellations},\n"
        "  journal = {Physical Review B},\n  volume = {96},\n  number = {2},\n"
        "  pages = {024104},\n  year = {2017},\n  doi = {10.1103/PhysRevB.96.024104}\n}"
    ),
    "artrith2017": (
        "@article{artrith2017,\n"
        "  author = {Artrith, Nongnuch and Urban, Alexander and Ceder, Gerbrand},\n"
        "  title = {Efficient and accurate machine-learning interpolation of atomic energies "
        "in compositions with many species},\n"
        "  journal = {Physical Review B},\n  volume = {96},\n  number = {1},\n"
        "  pages = {014112},\n  year = {2017},\n  doi = {10.1103/PhysRevB.96.014112}\n}"
    ),
    "artrith2016": (
        "@article{artrith2016,\n"
        "  author = {Artrith, Nongnuch and Urban, Alexander},\n"
        "  title = {An implementation of artificial neural-network potentials for atomistic "
        "materials simulations: Performance for {TiO2}},\n"
        "  journal = {Computational Materials Science},\n  volume = {114},\n"
        "  pages = {135--150},\n  year = {2016},\n  doi = {10.1016/j.commatsci.2015.11.047}\n}"
    ),
    "bartok2013": (
        "@article{bartok2013,\n"
        "  author = {Bart{\\'o}k, Albert P. and Kondor, Risi and Cs{\\'a}nyi, G{\\'a}bor},\n"
        "  title = {On representing chemical environments},\n"
        "  journal = {Physical Review B},\n  volume = {87},\n  pages = {184115},\n  year = {2013},\n  doi = {10.1103/PhysRevB.87.184115}\n}"
    ),
    "himanen2020": (
        "@article{himanen2020,\n"
        "  author = {Himanen, Lauri and others},\n"
        "  title = {{DScribe}: Library of descriptors for machine learning in materials science},\n"
        "  journal = {Computer Physics Communications},\n  volume = {247},\n"
        "  pages = {106949},\n  year = {2020},\n  doi = {10.1016/j.cpc.2019.106949}\n}"
    ),
    "behler2011": (
        "@article{behler2011,\n"
        "  author = {Behler, J{\\\"o}rg},\n"
        "  title = {Atom-centered symmetry functions for constructing high-dimensional neural "
        "network potentials},\n"
        "  journal = {The Journal of Chemical Physics},\n  volume = {134},\n  number = {7},\n"
        "  pages = {074106},\n  year = {2011},\n  doi = {10.1063/1.3553717}\n}"
    ),
    "darby2022": (
        "@article{darby2022,\n"
        "  author = {Darby, James P. and Kermode, James R. and Cs{\\'a}nyi, G{\\'a}bor},\n"
        "  title = {Compressing local atomic neighbourhood descriptors},\n"
        "  journal = {npj Computational Materials},\n  volume = {8},\n  number = {1},\n"
        "  pages = {166},\n  year = {2022},\n  doi = {10.1038/s41524-022-00847-y}\n}"
    ),
    "drautz2019": (
        "@article{drautz2019,\n"
        "  author = {Drautz, Ralf},\n"
        "  title = {Atomic cluster expansion for accurate and transferable interatomic potentials},\n"
        "  journal = {Physical Review B},\n  volume = {99},\n  number = {1},\n"
        "  pages = {014104},\n  year = {2019},\n  doi = {10.1103/PhysRevB.99.014104}\n}"
    ),
    "gharakhanyan2023": (
        "@misc{gharakhanyan2023,\n"
        "  author = {Gharakhanyan, Vahe and Aalto, Max S. and Alsoulah, Aminah and "
        "Artrith, Nongnuch and Urban, Alexander},\n"
        "  title = {Constructing and compressing global moment descriptors from local "
        "atomic environments},\n"
        "  note = {preprint},\n  year = {2023}\n}"
    ),
    "glielmo2022": (
        "@article{glielmo2022,\n"
        "  author = {Glielmo, Aldo and Zeni, Claudio and Cheng, Bingqing and "
        "Cs{\\'a}nyi, G{\\'a}bor and Laio, Alessandro},\n"
        "  title = {Ranking the information content of distance measures},\n"
        "  journal = {PNAS Nexus},\n  volume = {1},\n  number = {2},\n"
        "  pages = {pgac039},\n  year = {2022},\n  doi = {10.1093/pnasnexus/pgac039}\n}"
    ),
    "allen2025": (
        "@misc{allen2025,\n"
        "  author = {Allen, Alice E. A. and Shinkle, Emily and Bujack, Roxana and Lubbers, Nicholas},\n"
        "  title = {Optimal invariant bases for atomistic machine learning},\n"
        "  note = {arXiv:2503.23515},\n  year = {2025},\n  doi = {10.48550/arXiv.2503.23515}\n}"
    ),
    "ward2016": (
        "@article{ward2016,\n"
        "  author = {Ward, Logan and Agrawal, Ankit and Choudhary, Alok and Wolverton, Christopher},\n"
        "  title = {A general-purpose machine learning framework for predicting properties of "
        "inorganic materials},\n"
        "  journal = {npj Computational Materials},\n  volume = {2},\n"
        "  pages = {16028},\n  year = {2016},\n  doi = {10.1038/npjcompumats.2016.28}\n}"
    ),
    "schutt2014": (
        "@article{schutt2014,\n"
        "  author = {Sch{\\\"u}tt, Kristof T. and Glawe, Henning and Brockherde, Felix and "
        "Sanna, Antonio and M{\\\"u}ller, Klaus-Robert and Gross, Eberhard K. U.},\n"
        "  title = {How to represent crystal structures for machine learning: Towards fast "
        "prediction of electronic properties},\n"
        "  journal = {Physical Review B},\n  volume = {89},\n  number = {20},\n"
        "  pages = {205118},\n  year = {2014},\n  doi = {10.1103/PhysRevB.89.205118}\n}"
    ),
}
