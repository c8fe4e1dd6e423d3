"""Command-line interface: ``skdesc demo``, ``skdesc featurize``, ``skdesc analyze``."""

import argparse
import ast
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

from . import __version__

__all__ = ["main"]


def _demo(args):
    from .datasets import DEMO_CITATION
    from .demo import run_demo

    start = time.perf_counter()
    results = run_demo(n_jobs=args.n_jobs, max_structures=args.max_structures, verbose=not args.quiet)
    elapsed = time.perf_counter() - start

    first = results[0]
    print(
        f"\nEnergy per atom of {first['n_structures']} NbMoTaW structures, shuffled 5-fold CV of\n"
        "ChebyshevLAED -> MomentGSD -> StandardScaler -> KernelRidge(rbf, alpha and gamma * n_features by grid search,\n"
        "standardised target);\n"
        "composition: the same model on the element fractions only (the baseline to beat)\n"
    )
    header = f"{'descriptor':<12}{'dimension':>10}{'MAE':>10}{'RMSE':>10}{'time':>8}"
    print(header)
    print(f"{'':<12}{'':>10}{'meV/atom':>10}{'meV/atom':>10}{'s':>8}")
    print("-" * len(header))
    for row in results:
        print(
            f"{row['descriptor']:<12}{row['dimension']:>10d}{row['mae']:>10.1f}"
            f"{row['rmse']:>10.1f}{row['seconds']:>8.1f}"
        )
    print(f"\nTotal time: {elapsed:.1f} s (n_jobs={first['n_jobs']})")
    print(f"Data: {DEMO_CITATION}")
    return 0


class CommandError(Exception):
    """A user error: printed without traceback, exit code 2."""


_OUTPUTS = (".parquet", ".npz", ".csv")
_ANALYZE_OUTPUTS = (
    "imbalance.csv", "srim.csv", "summary.csv", "descriptors.csv", "pairs_similar.csv", "pairs_dissimilar.csv",
    "min_srim.csv", "correlation.png", "min_srim.png",
)

_FEATURIZE_EXAMPLES = """examples:
  skdesc featurize data.extxyz --descriptor chebyshev --rad-cutoff 6 --rad-order 10 \\
      --ang-cutoff 3 --ang-order 4 --output atoms.parquet
  skdesc featurize POSCAR_* --descriptor soap --r-cut 5 --n-max 6 --l-max 4 \\
      --compression mu2 --gsd 332 --n-jobs -1 --output structures.npz
  skdesc featurize md.traj --descriptor acsf --r-cut 6 --g2 0.5 0 --g2 2 0 \\
      --g4 0.01 1 1 --output atoms.csv
  skdesc featurize data.extxyz --descriptor coordination --r-cut 3.2 \
      --param smooth_width=0.3 --gsd 11 --output structures.csv

Without --gsd the output has one row per atom (columns structure, source, atom,
element, then the features); with --gsd one row per structure (columns
structure, source, n_atoms, then the features).  .npz files hold the same as
arrays: features, feature_names and the index columns."""

_ANALYZE_EXAMPLES = """examples:
  skdesc analyze data.extxyz --output-dir gsd_space
  skdesc analyze a.extxyz b.extxyz --descriptor soap --r-cut 5 --max-order 3 \\
      --reference 332 --output-dir gsd_space

Writes imbalance.csv (Delta(row -> column), raw mean ranks), srim.csv,
summary.csv (Tables B.1-B.3 of Gharakhanyan et al. 2023), pairs_similar.csv,
pairs_dissimilar.csv, min_srim.csv, descriptors.csv, correlation.png and
min_srim.png."""


def _read_structures(files):
    """All frames of all files, with the file of each structure."""
    structures, sources = [], []
    for name in files:
        path = Path(name)
        if path.is_dir():
            raise CommandError(f"cannot read {name}: it is a directory, not a structure file")
        if not path.is_file():
            hint = ""
            if _is_element(name):
                hint = f" (an element? --species takes one comma-separated list, e.g. --species Ti,{name})"
            raise CommandError(f"cannot read {name}: no such file{hint}")
        try:
            frames = _read_file(path)
        except Exception as exc:  # ASE raises many types for unreadable files
            raise CommandError(f"cannot read {name} with ase.io.read ({type(exc).__name__}: {exc})") from None
        if not isinstance(frames, list):
            frames = [frames]
        if not frames:
            raise CommandError(f"{name} contains no structures")
        structures += frames
        sources += [str(name)] * len(frames)
    return structures, sources


_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}


def _read_file(path):
    """All frames of one file; compressed files are decompressed in memory first.

    ASE reads a compressed file by seeking in the decompressed stream, which
    restarts decompression: reading all 7,815 frames of a 5 MB .extxyz.gz took
    over ten minutes, the plain file well under one.
    """
    import importlib
    import io

    import ase.io
    from ase.io.formats import filetype

    module = _COMPRESSION.get(path.suffix.lower())
    if module is None:
        return ase.io.read(path, index=":")
    try:
        with importlib.import_module(module).open(path, "rt") as handle:
            text = handle.read()
        form = filetype(path.with_suffix("").name, read=False)
    except (UnicodeDecodeError, ValueError):  # binary or unguessable: let ASE try
        return ase.io.read(path, index=":")
    return ase.io.read(io.StringIO(text), index=":", format=form)


_STREAMED_FORMATS = ("extxyz", "xyz")


def _check_input_path(name):
    path = Path(name)
    if path.is_dir():
        raise CommandError(f"cannot read {name}: it is a directory, not a structure file")
    if not path.is_file():
        hint = ""
        if _is_element(name):
            hint = f" (an element? --species takes one comma-separated list, e.g. --species Ti,{name})"
        raise CommandError(f"cannot read {name}: no such file{hint}")
    return path


def _open_text(path):
    """A text handle on ``path``, decompressing .gz/.bz2/.xz on the fly (one pass, no seeking)."""
    import importlib

    module = _COMPRESSION.get(path.suffix.lower())
    if module is None:
        return open(path, "rt")
    return importlib.import_module(module).open(path, "rt")


def _stream_format(path):
    """The ASE format of ``path`` if its frames can be streamed one by one, else None."""
    from ase.io.formats import filetype

    name = path.with_suffix("").name if path.suffix.lower() in _COMPRESSION else path.name
    try:
        form = filetype(name, read=False)
    except ValueError:
        return None
    return form if form in _STREAMED_FORMATS else None


def _frame_texts(handle, name):
    """The text of each frame of an (extended) XYZ stream: a count line, a comment line, that many atom lines."""
    number = 0
    while True:
        line = handle.readline()
        if not line:
            return
        if not line.strip():
            continue
        try:
            n_atoms = int(line.split()[0])
        except ValueError:
            raise CommandError(f"cannot read {name}: frame {number} does not start with a number of atoms "
                               f"(found {line.strip()[:40]!r})") from None
        lines = [line, handle.readline()]
        lines += [handle.readline() for _ in range(n_atoms)]
        if not lines[-1]:
            raise CommandError(f"cannot read {name}: frame {number} is cut short ({n_atoms} atoms announced)")
        yield "".join(lines)
        number += 1


def _iter_structures(files):
    """``(atoms, source)`` of every frame of every file, one frame at a time for (extended) XYZ files.

    Compressed files are decompressed once, as a stream; other formats are
    read whole by ``ase.io.read``.
    """
    import io

    import ase.io

    for name in files:
        path = _check_input_path(name)
        form = _stream_format(path)
        count = 0
        try:
            if form is None:
                frames = _read_file(path)
                for atoms in frames if isinstance(frames, list) else [frames]:
                    count += 1
                    yield atoms, str(name)
            else:
                with _open_text(path) as handle:
                    for text in _frame_texts(handle, name):
                        count += 1
                        yield ase.io.read(io.StringIO(text), format=form), str(name)
        except CommandError:
            raise
        except Exception as exc:  # ASE raises many types for unreadable files
            raise CommandError(f"cannot read {name} with ase.io.read ({type(exc).__name__}: {exc})") from None
        if count == 0:
            raise CommandError(f"{name} contains no structures")


def _scan_species(files):
    """The elements of all files (a quick pass: for (extended) XYZ only the first column of each atom line)."""
    import io

    import ase.io

    found = set()
    for name in files:
        path = _check_input_path(name)
        form = _stream_format(path)
        if form is None:
            for atoms, _ in _iter_structures([name]):
                found.update(atoms.get_chemical_symbols())
            continue
        with _open_text(path) as handle:
            for text in _frame_texts(handle, name):
                lines = text.split("\n")
                n_atoms = int(lines[0].split()[0])
                first = {row.split(None, 1)[0] for row in lines[2 : 2 + n_atoms] if row.strip()}
                if all(_is_element(symbol) for symbol in first):
                    found.update(first)
                else:  # species in another column, or numbers: let ASE parse this frame
                    found.update(ase.io.read(io.StringIO(text), format=form).get_chemical_symbols())
    from ase.data import atomic_numbers

    return sorted(found, key=lambda symbol: atomic_numbers[symbol])


def _is_element(name):
    from ase.data import atomic_numbers

    return name in atomic_numbers and name != "X"


def _species_list(text):
    """``--species Ti,O`` (one argument, so that the files after it stay files)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if not _is_element(name)]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give chemical symbols separated by commas, e.g. --species Ti,O"
            + (f" ({', '.join(map(repr, unknown))} is not an element)" if unknown else "")
        )
    return names


def _try_write(path, what):
    """Open ``path`` for appending (creating it if needed, then removing it): fail now, not after the work."""
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise CommandError(f"{what}: cannot write {path} ({exc.strerror or exc})") from None
    if not existed:
        try:
            path.unlink()
        except OSError:
            pass


def _check_output_file(name):
    path = Path(name)
    if path.is_dir():
        raise CommandError(f"--output {name} is a directory: give a file name, e.g. {path / 'features.csv'}")
    parent = path.parent
    if not parent.exists():
        raise CommandError(f"--output {name}: the directory {parent} does not exist; create it first")
    if not parent.is_dir():
        raise CommandError(f"--output {name}: {parent} is not a directory")
    _try_write(path, "--output")


def _check_output_dir(name):
    path = Path(name)
    if path.exists() and not path.is_dir():
        raise CommandError(
            f"--output-dir {name} is an existing file, not a directory: choose another name or remove the file"
        )
    existing = path
    while not existing.exists():  # the directory will be created inside the nearest existing ancestor
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"--output-dir {name}: {existing} is a file, not a directory")
    blocked = [out for out in _ANALYZE_OUTPUTS if (path / out).is_dir()]
    if blocked:
        raise CommandError(f"--output-dir {name}: {path / blocked[0]} is a directory; cannot write the table there")
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        raise CommandError(f"--output-dir {name}: cannot write in {existing} ({exc.strerror or exc})") from None


def _build_descriptor(args):
    """The local descriptor of the options, with its parameters checked (before any file is read)."""
    descriptor = _make_descriptor(args)
    import ase

    # a one-atom fit checks every parameter now, not after reading and featurising the files
    first = args.species[0] if args.species else "H"
    descriptor.set_params(verbose=0).fit(ase.Atoms(first, pbc=False))
    return descriptor.set_params(verbose=int(not args.quiet))


# each descriptor option sets the first of these parameters that the chosen descriptor has
_OPTION_PARAMETERS = {
    "r_cut": ("r_cut", "rad_cutoff", "cutoff"),
    "rad_order": ("rad_order",),
    "ang_cutoff": ("ang_cutoff",),
    "ang_order": ("ang_order",),
    "n_max": ("n_max",),
    "l_max": ("l_max",),
    "sigma": ("sigma",),
    "compression": ("compression",),
    "g2": ("g2_params",),
    "g3": ("g3_params",),
    "g4": ("g4_params",),
    "g5": ("g5_params",),
}


def descriptor_choices():
    """The ``--descriptor`` names: every registered local descriptor (``skdesc.local.all_descriptors``).

    A descriptor's name is its ``_cli_name`` (default: the class name in lower
    case); a subclass that shares its parent's name (``SOAP`` is
    ``CompressedSOAP`` with ``compression="nu2"``) is reached through the parent.

    Returns
    -------
    dict of str to type
    """
    from .local.base import all_descriptors

    found = {}
    for cls in all_descriptors().values():
        name = cls._cli_name or cls.__name__.lower()
        if name in found and issubclass(cls, found[name]):
            continue
        found[name] = cls
    return dict(sorted(found.items()))


def _parse_param(text):
    """``NAME=VALUE`` of ``--param``: the value as a Python literal, else as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"--param {text!r}: write NAME=VALUE, e.g. --param smooth_width=0.5")
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        parsed = value.strip()
    return name.strip(), parsed


def _make_descriptor(args):
    choices = descriptor_choices()
    if args.descriptor not in choices:
        raise CommandError(f"unknown descriptor {args.descriptor!r}: choose one of {', '.join(choices)}")
    cls = choices[args.descriptor]
    accepted = cls._get_param_names()
    params = {"n_jobs": args.n_jobs, "verbose": int(not args.quiet)}
    if args.species:
        params["species"] = list(args.species)
    refused = []
    for option, names in _OPTION_PARAMETERS.items():
        value = getattr(args, option)
        if value is None:
            continue
        target = next((name for name in names if name in accepted), None)
        if target is None:
            refused.append(option)
        else:
            params[target] = value
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        verb = "does" if len(refused) == 1 else "do"
        raise CommandError(f"{flags} {verb} not apply to --descriptor {args.descriptor}")
    for text in args.param or ():
        name, value = _parse_param(text)
        if name not in accepted:
            raise CommandError(
                f"--param {name}: {cls.__name__} has no parameter {name!r}; it has {', '.join(accepted)}"
            )
        params[name] = value
    return cls(**params)


def _given(**options):
    """The options the user set (argparse leaves the others at None)."""
    return {name: value for name, value in options.items() if value is not None}


def _output_kind(path):
    suffix = Path(path).suffix.lower()
    if suffix not in _OUTPUTS:
        raise CommandError(f"unsupported output {path!r}: the file name must end in {', '.join(_OUTPUTS)}")
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CommandError(
                "writing .parquet needs pyarrow: pip install 'skdesc[parquet]', or choose .npz or .csv"
            ) from None
    return suffix


def _write_table(index, names, values, path, kind):
    import numpy as np
    import pandas as pd

    if kind == ".npz":
        np.savez_compressed(
            path,
            features=values,
            feature_names=np.asarray(names, dtype=str),
            # strings as fixed-width unicode, so that np.load needs no pickle
            **{column: np.asarray(data, dtype=str if np.asarray(data).dtype == object else None)
               for column, data in index.items()},
        )
        return
    table = pd.concat([pd.DataFrame(index), pd.DataFrame(values, columns=[str(n) for n in names])], axis=1)
    if kind == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)


def _targets(structures, sources, keys, start=0, source_start=None):
    """Per-structure values of ``--target`` keys: ``atoms.info`` first, then the calculator's results.

    For a streamed input, ``start`` is the number of structures before these
    and ``source_start`` the number of the first structure of each file, so
    that error messages count structures within their file.
    """
    source_start = {} if source_start is None else source_start

    def local(index):
        return start + index - source_start.get(sources[index], start + sources.index(sources[index]))

    import numpy as np

    columns = {}
    for key in keys:
        if key in ("structure", "source", "atom", "element", "n_atoms"):
            raise CommandError(f"--target {key}: the output already has an index column {key!r}")
        values = []
        for index, atoms in enumerate(structures):
            results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
            if key in atoms.info:
                value = atoms.info[key]
            elif key in results:
                value = results[key]
            else:
                available = sorted(set(atoms.info) | set(results))
                raise CommandError(
                    f"--target {key}: structure {local(index)} of {sources[index]} has no {key!r} "
                    f"(it has: {', '.join(available) or 'no per-structure properties'})"
                )
            value = np.asarray(value)
            if value.ndim != 0 or not np.issubdtype(value.dtype, np.number):
                raise CommandError(
                    f"--target {key}: structure {local(index)} of {sources[index]} "
                    f"has a {key!r} that is not one number (shape {value.shape}, {value.dtype})"
                )
            values.append(value.item())
        columns[key] = np.asarray(values)
    return columns


class _TableWriter:
    """Writes the output table chunk by chunk: CSV appended, Parquet as row groups, NPZ at the end.

    NPZ cannot be appended to, so its chunks are held until :meth:`close`
    (the features themselves; the structures are not kept).
    """

    def __init__(self, path, kind):
        self.path, self.kind = path, kind
        self.parts, self.writer, self.rows, self.columns = [], None, 0, None

    def write(self, index, names, values):
        import pandas as pd

        self.rows += values.shape[0]
        self.columns = values.shape[1]
        if self.kind == ".npz":
            self.parts.append((index, names, values))
            return
        table = pd.concat([pd.DataFrame(index), pd.DataFrame(values, columns=[str(n) for n in names])], axis=1)
        if self.kind == ".csv":
            table.to_csv(self.path, index=False, mode="w" if self.writer is None else "a", header=self.writer is None)
            self.writer = True
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = pa.Table.from_pandas(table, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, arrow.schema)
        self.writer.write_table(arrow.cast(self.writer.schema))

    def close(self):
        import numpy as np

        if self.kind == ".parquet" and self.writer is not None:
            self.writer.close()
        if self.kind != ".npz" or not self.parts:
            return
        names = self.parts[0][1]
        index = {key: np.concatenate([np.asarray(part[0][key]) for part in self.parts]) for key in self.parts[0][0]}
        values = np.concatenate([part[2] for part in self.parts])
        _write_table(index, names, values, self.path, self.kind)


_WIDE_COLUMNS = 10_000


def _chunks(items, size):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _featurize(args):
    import numpy as np

    from tqdm.auto import tqdm

    from .structures import atomic_symbol

    kind = _output_kind(args.output)
    _check_output_file(args.output)
    if args.chunk_size < 1:
        raise CommandError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    gsd = _parse_gsd(args.gsd)
    descriptor = _build_descriptor(args).set_params(verbose=0)
    for name in args.files:
        _check_input_path(name)
    if not args.species:
        # the element order must be known before the first chunk: one quick pass over the files
        descriptor.set_params(species=_scan_species(args.files))
    writer = _TableWriter(args.output, kind)
    done = 0
    fitted = False
    warned = False
    source_start = {}
    bar = None  # a progress bar from the second chunk on: a one-chunk input (or an early error) prints none
    try:
        for chunk in _chunks(_iter_structures(args.files), args.chunk_size):
            if bar is None and done and not args.quiet:
                bar = tqdm(desc="featurize", unit=" structures", initial=done, file=sys.stderr)
            structures = [atoms for atoms, _ in chunk]
            sources = [source for _, source in chunk]
            for k, source in enumerate(sources):
                source_start.setdefault(source, done + k)
            targets = _targets(structures, sources, args.target or [], start=done, source_start=source_start)
            if not fitted:
                descriptor.fit(structures)
                if gsd is not None:
                    gsd.fit(descriptor.transform(structures[:1]))
                fitted = True
            atomic = descriptor.transform(structures)
            if gsd is None:
                values = atomic.values.toarray() if hasattr(atomic.values, "toarray") else atomic.values
                structure = atomic.structure_index
                counts = atomic.n_atoms_per_structure
                index = {
                    "structure": done + structure,
                    "source": np.asarray(sources, dtype=object)[structure],
                    "atom": np.arange(atomic.n_atoms) - np.repeat(atomic.offsets[:-1], counts),
                    "element": np.array([atomic_symbol(z) for z in atomic.numbers], dtype=object),
                }
                index.update({key: column[structure] for key, column in targets.items()})
                names = descriptor.get_feature_names_out()
            else:
                values = gsd.transform(atomic)
                index = {
                    "structure": done + np.arange(len(structures)),
                    "source": np.asarray(sources, dtype=object),
                    "n_atoms": atomic.n_atoms_per_structure,
                    **targets,
                }
                names = gsd.get_feature_names_out()
            if values.shape[1] > _WIDE_COLUMNS and kind != ".npz" and not warned:
                warnings.warn(
                    f"{values.shape[1]:,} feature columns: {kind} stores a table this wide inefficiently "
                    "(a column per feature, large files and slow writing); write .npz instead, one array"
                )
                warned = True
            writer.write(index, names, values)
            done += len(structures)
            if bar is not None:
                bar.update(len(structures))
    finally:
        if bar is not None:
            bar.close()
    writer.close()
    rows = "atoms" if gsd is None else "structures"
    print(f"wrote {writer.rows} {rows} x {writer.columns} features to {args.output}", file=sys.stderr)
    return 0


def _parse_gsd(label):
    if label is None:
        return None
    from .pooling import MomentGSD

    try:
        return MomentGSD.from_sigma(label)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"--gsd {label}: {exc}") from None


def _analyze(args):
    from .information import GSDSpaceAnalysis

    out = Path(args.output_dir)
    _check_output_dir(out)
    if args.n_pairs < 1:
        raise CommandError(f"--n-pairs must be at least 1, got {args.n_pairs}")
    analysis = GSDSpaceAnalysis(
        max_order=args.max_order, reference=args.reference, verbose=int(not args.quiet),
        **_given(tolerance=args.tolerance),
    )
    analysis._validate_params()  # before the files are read and featurised
    descriptor = _build_descriptor(args)
    structures, _ = _read_structures(args.files)
    if len(structures) < 3:
        raise CommandError(f"analyze needs at least 3 structures, the files hold {len(structures)}")
    analysis.fit(descriptor.fit_transform(structures))
    out.mkdir(parents=True, exist_ok=True)
    analysis.imbalance_.rename_axis("from").to_csv(out / "imbalance.csv")
    analysis.srim().rename_axis("descriptor").to_csv(out / "srim.csv")
    analysis.summary().rename_axis("descriptor").to_csv(out / "summary.csv")
    analysis.descriptors_.to_csv(out / "descriptors.csv")
    analysis.pairs(n=args.n_pairs, most_similar=True).to_csv(out / "pairs_similar.csv", index=False)
    analysis.pairs(n=args.n_pairs, most_similar=False).to_csv(out / "pairs_dissimilar.csv", index=False)
    analysis.min_srim_by_complexity().to_csv(out / "min_srim.csv", index=False)
    analysis.plot_correlation(path=out / "correlation.png")
    analysis.plot_min_srim(path=out / "min_srim.png")
    print(f"{len(structures)} structures, {len(analysis.imbalance_)} GSDs\n{analysis.recommendation()}\n"
          f"wrote tables and plots to {out}/")
    return 0


_AUDIT_EXAMPLES = """examples:
  skdesc audit data.extxyz --target energy --per-atom --report report.html
  skdesc audit POSCAR_* --target band_gap --descriptor soap --r-cut 5 --n-max 6 --l-max 4 --pooling histogram

Runs the eight checks of the descriptor quality checklist (Pelz, Materials
Genomics, Unit 6, slide 49) and prints one line per check (pass / warn / fail
with the number behind it); --report also writes a self-contained HTML page
with a plot per check."""


def _audit(args):
    import numpy as np

    from .audit import checklist
    from .pooling import HistogramPooling, MeanPooling, SpeciesPooling, SumPooling

    if args.report is not None:
        if Path(args.report).suffix.lower() not in (".html", ".htm"):
            raise CommandError(f"--report {args.report}: the report is an HTML page; name it e.g. report.html")
        _check_output_file(args.report)
    if args.cv < 2:
        raise CommandError(f"--cv must be at least 2, got {args.cv}")
    descriptor = _build_descriptor(args)
    structures, sources = _read_structures(args.files)
    y = _targets(structures, sources, [args.target])[args.target]
    if args.per_atom:
        y = y / np.array([len(atoms) for atoms in structures])
    pooling = {"auto": None, "mean": MeanPooling(), "sum": SumPooling(), "histogram": HistogramPooling(),
               "species": SpeciesPooling()}[args.pooling]
    name = ", ".join(dict.fromkeys(sources))
    report = checklist(
        structures, y, descriptor.set_params(verbose=0), pooling=pooling, target=args.target_kind, cv=args.cv,
        n_jobs=args.n_jobs, dataset_name=f"{name}: {args.target}{' per atom' if args.per_atom else ''}",
    )
    print(report.summary())
    if args.report is not None:
        report.to_html(args.report)
        print(f"wrote {args.report}")
    return 0


def _add_descriptor_options(parser, required, light=False):
    parser.add_argument("files", nargs="+", metavar="FILE", help="structure files (anything ase.io.read reads)")
    group = parser.add_argument_group("descriptor")
    # the list of descriptors imports them all (scikit-learn, numba): only for the command that needs it
    names = "see the command's --help" if light else ", ".join(descriptor_choices())
    group.add_argument(
        "--descriptor", required=required, default=None if required else "chebyshev", metavar="NAME",
        help=f"local descriptor: {names}" + ("" if required else " (default: chebyshev)"),
    )
    group.add_argument(
        "--species", type=_species_list, metavar="EL,EL", help="element order, comma-separated, e.g. --species Ti,O"
    )
    group.add_argument(
        "--r-cut", "--rad-cutoff", dest="r_cut", type=float, metavar="Å",
        help="cutoff radius (chebyshev: the radial one; default 6 for chebyshev and acsf, 5 for soap)",
    )
    group.add_argument("--rad-order", type=int, help="chebyshev: highest radial order (default 19)")
    group.add_argument("--ang-cutoff", type=float, metavar="Å", help="chebyshev: angular cutoff (default 3)")
    group.add_argument("--ang-order", type=int, help="chebyshev: highest angular order (default 5)")
    group.add_argument("--n-max", type=int, help="soap: number of radial functions (default 8)")
    group.add_argument("--l-max", type=int, help="soap: highest angular momentum (default 6)")
    group.add_argument("--sigma", type=float, metavar="Å", help="soap: Gaussian width (default 0.5)")
    group.add_argument(
        "--compression", metavar="MODE",
        help="soap/acsf compression (Darby et al. 2022), e.g. nu2 (default), mu2, nu1mu1, nu1mu1hat, crossover, random",
    )
    for name, fields in (("g2", "ETA RS"), ("g3", "KAPPA"), ("g4", "ETA ZETA LAMBDA"), ("g5", "ETA ZETA LAMBDA")):
        group.add_argument(
            f"--{name}", nargs=len(fields.split()), type=float, action="append", metavar=tuple(fields.split()),
            help=f"acsf: add a {name.upper()} function (repeatable)",
        )
    group.add_argument(
        "--param", action="append", metavar="NAME=VALUE",
        help="any other parameter of the descriptor, as a Python literal (repeatable), e.g. --param smooth_width=0.5",
    )
    parser.add_argument("--n-jobs", type=int, default=None, help="threads (default: 1; -1: all cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


class _Parser(argparse.ArgumentParser):
    """Usage errors in two lines (the error and where to get help), not the whole usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def _parser(light=False):
    """The argument parser; ``light`` leaves out the descriptor list (for ``skdesc --help``, fast)."""
    parser = _Parser(prog="skdesc", description="Atomic-structure descriptors for scikit-learn.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="compare moment GSDs on the bundled NbMoTaW data",
        description="Cross-validated energy-per-atom regression with five moment GSDs "
        "(Sigma100 ... Sigma555) on 300 bundled NbMoTaW structures.",
    )
    demo.add_argument(
        "--n-jobs", type=int, default=-1, help="threads for the local descriptor (default: -1, all cores)"
    )
    demo.add_argument(
        "--max-structures", type=int, default=None, metavar="N", help="use a random subset of N >= 10 structures"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)

    raw = argparse.RawDescriptionHelpFormatter
    featurize = commands.add_parser(
        "featurize",
        help="compute per-atom descriptors or moment GSDs of structure files",
        description="Compute a local descriptor for every atom of every structure in FILE(s), "
        "optionally pooled into one moment GSD per structure (--gsd).",
        epilog=_FEATURIZE_EXAMPLES,
        formatter_class=raw,
    )
    _add_descriptor_options(featurize, required=True, light=light)
    featurize.add_argument(
        "--gsd", metavar="IJK",
        help="pool into the moment GSD Sigma_IJK (e.g. 100, 332, 555, 554): one row per structure",
    )
    featurize.add_argument(
        "--output", "-o", required=True, metavar="PATH", help="output file: .parquet, .npz or .csv"
    )
    featurize.add_argument(
        "--target", action="append", metavar="KEY",
        help="add a column of the per-structure property KEY (atoms.info, or the calculator's results such as "
        "energy); repeatable",
    )
    featurize.add_argument(
        "--chunk-size", type=int, default=1000, metavar="N",
        help="structures read and featurised at a time (default: 1000); memory stays bounded for any file size",
    )
    featurize.set_defaults(func=_featurize)

    analyze = commands.add_parser(
        "analyze",
        help="information-imbalance analysis of the space of moment GSDs",
        description="Compute the rank information imbalance between all moment GSDs "
        "(Gharakhanyan et al. 2023) of the structures in FILE(s) and write tables and plots.",
        epilog=_ANALYZE_EXAMPLES,
        formatter_class=raw,
    )
    _add_descriptor_options(analyze, required=False, light=light)
    analyze.add_argument("--max-order", type=int, default=5, help="highest inner/outer moment (default: 5)")
    analyze.add_argument("--reference", default=None, help="reference GSD (default: Sigma_mm5, the largest)")
    analyze.add_argument(
        "--tolerance", type=float, default=None,
        help="recommend the least complex GSD whose SRIM to the reference exceeds the reference's own (1) by at "
        "most this fraction of N/2 - 1 (default: 0.01)",
    )
    analyze.add_argument("--n-pairs", type=int, default=10, help="rows of the pair tables (default: 10)")
    analyze.add_argument("--output-dir", required=True, metavar="DIR", help="directory for the tables and plots")
    analyze.set_defaults(func=_analyze)

    audit = commands.add_parser(
        "audit",
        help="run the eight-point descriptor quality checklist on structure files",
        description="Check a descriptor pipeline on the structures in FILE(s) and their target: periodic images, "
        "parser round trip, cutoff sensitivity, invariances, pooling, polymorph aliasing, long-range physics and "
        "the composition baseline.",
        epilog=_AUDIT_EXAMPLES,
        formatter_class=raw,
    )
    _add_descriptor_options(audit, required=False, light=light)
    audit.add_argument("--target", required=True, metavar="KEY",
                       help="per-structure property to model (atoms.info, or the calculator's results, e.g. energy)")
    audit.add_argument("--per-atom", action="store_true", help="divide the target by the number of atoms")
    audit.add_argument("--target-kind", choices=("auto", "intensive", "extensive"), default="auto",
                       help="intensive or extensive target (default: auto, from its correlation with the size)")
    audit.add_argument("--pooling", choices=("auto", "mean", "sum", "histogram", "species"), default="auto",
                       help="pooling of your pipeline (default: auto: mean for intensive, sum for extensive targets)")
    audit.add_argument("--cv", type=int, default=5, help="cross-validation folds (default: 5)")
    audit.add_argument("--report", metavar="PATH", default=None, help="also write the HTML report to PATH")
    audit.set_defaults(func=_audit)
    compile_ = commands.add_parser(
        "compile",
        help="compile and cache the numba kernels now, not on first use",
        description="Run every estimator (or the NAMEs given) once on two tiny structures, so that numba compiles "
        "its kernels into its on-disk cache: the first call in later processes then takes well under a second "
        "instead of 10-60 s. pip install . already did this, unless NUMBA_CACHE_DIR is set, SKDESC_PRECOMPILE=0 "
        "was given or the package was built on another machine: run it once then (e.g. in a container build).",
    )
    compile_.add_argument("names", nargs="*", metavar="NAME",
                          help="estimator class names, e.g. SOAP ChebyshevLAED MomentGSD (default: all)")
    compile_.add_argument("--no-derivatives", action="store_true", help="skip the derivative kernels")
    compile_.add_argument("--n-jobs", "-j", type=int, default=1, metavar="N",
                          help="processes compiling in parallel (default: 1)")
    compile_.set_defaults(func=_compile)
    return parser


def _compile(args):
    """``skdesc compile``: compile the kernels into numba's cache, one line per estimator."""
    from ._warmup import compile_kernels, kernel_cache_location

    start = time.perf_counter()
    try:
        seconds = compile_kernels(args.names or None, derivatives=not args.no_derivatives, n_jobs=args.n_jobs,
                                  report=lambda name, took: print(f"{name:<36}{took:7.1f} s", flush=True))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(f"{len(seconds)} estimators compiled in {time.perf_counter() - start:.1f} s; numba cache: "
          f"{kernel_cache_location()}")
    return 0


def _show_warning(command, message, category, filename, lineno, file=None, line=None):
    print(f"skdesc {command}: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the ``skdesc`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        Exit code: 0 on success, 2 for usage errors (unreadable files,
        unknown descriptor, invalid parameters, unsupported output).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    commands_with_descriptors = {"featurize", "analyze", "audit"}
    parser = _parser(light=not commands_with_descriptors & set(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (argparse printed them; code 2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "demo" and args.max_structures is not None and args.max_structures < 10:
        print("skdesc demo: error: --max-structures must be at least 10", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = partial(_show_warning, args.command)
            return args.func(args)
    except CommandError as exc:
        print(f"skdesc {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        if args.command == "demo":
            raise
        # invalid descriptor parameters or structures: the estimators' messages say what to change
        print(f"skdesc {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the disk filled up while writing
        print(f"skdesc {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skdesc {args.command}: interrupted", file=sys.stderr)
        return 130
