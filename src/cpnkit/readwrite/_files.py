"""Reading topology files from disk (plain or gzip-compressed), with every failure as a ``TopologyError``."""

from __future__ import annotations

import gzip
import os
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

from cpnkit.readwrite._build import SourceRef

__all__ = ["PathLike", "as_path", "local_name", "read_bytes", "read_xml"]

PathLike = str | os.PathLike[str]


def as_path(path: PathLike) -> Path:
    """``path`` as a ``Path`` (``~`` expanded)."""
    return Path(path).expanduser()


def read_bytes(path: Path) -> bytes:
    """The content of ``path``, gunzipped when the name ends in ``.gz``.

    Raises:
        TopologyError: the file is missing, unreadable or a broken gzip stream.
    """
    src = SourceRef(str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        src.fail(
            "topology file does not exist",
            f"check the path (relative paths are resolved from {Path.cwd()})",
        )
    except IsADirectoryError:
        src.fail("is a directory, not a topology file", "give the path of a .json, .graphml or .xml file")
    except OSError as err:
        src.fail(f"cannot be read ({err.strerror or err})", "check the file's permissions")
    if path.name.lower().endswith(".gz"):
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            src.fail(f"is not a valid gzip file ({err})", "re-compress it with gzip or drop the .gz suffix")
    return raw


def read_xml(path: Path) -> ET.Element:
    """Parse an XML file (optionally gzipped) and return its root element.

    Raises:
        TopologyError: the file is missing, unreadable or not well-formed XML.
    """
    data = read_bytes(path)
    try:
        return ET.fromstring(data)
    except ET.ParseError as err:
        line, column = err.position
        SourceRef(str(path)).fail(
            f"is not well-formed XML (line {line}, column {column}: {err.msg})",
            "fix the XML syntax at that position",
        )


def local_name(tag: str) -> str:
    """An element tag without its ``{namespace}`` prefix."""
    return tag.rsplit("}", 1)[-1]
