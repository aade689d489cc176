"""Helpers shared by the sub-commands: input collection and error reporting."""

from __future__ import annotations

import sys
from pathlib import Path

from trimatte.errors import InputError
from trimatte.io import IMAGE_SUFFIXES, find_by_stem, list_images


def collect_images(inputs: list[str]) -> list[Path]:
    """Expand files and folders into a sorted, de-duplicated list of image files.

    Raises:
        InputError: A named path does not exist, or a folder holds no images.
    """
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            images = list_images(path)
            if not images:
                raise InputError(
                    f"folder holds no images ({', '.join(IMAGE_SUFFIXES)})", path
                )
            found.extend(images)
        elif path.exists():
            found.append(path)
        else:
            raise InputError("file not found", path)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique]


def check_unique_stems(paths: list[Path]) -> None:
    """Outputs are named after the input stem; two inputs with one stem would collide."""
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise InputError(
                f"has the same name as {seen[path.stem]}; their outputs would overwrite "
                "each other (rename one or run them separately)",
                path,
            )
        seen[path.stem] = path


def trimap_for(image: Path, trimap_arg: str | None, n_images: int) -> Path | None:
    """The trimap file of ``image``: the file itself, or ``DIR/<stem>.*`` for a folder."""
    if trimap_arg is None:
        return None
    trimap = Path(trimap_arg)
    if trimap.is_dir():
        found = find_by_stem(trimap, image.stem)
        if found is None:
            raise InputError(f"no trimap named {image.stem}.png in {trimap}", image)
        return found
    if n_images > 1:
        raise InputError("is a single file but several images were given; pass a folder", trimap)
    return trimap


def report(message: str) -> None:
    """Print an error line that does not break a tqdm progress bar."""
    from tqdm import tqdm

    tqdm.write(f"trimatte: error: {message}", file=sys.stderr)
